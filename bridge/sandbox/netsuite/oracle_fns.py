"""The SQL functions SuiteQL (Oracle dialect) queries call, as SQLite user functions.

Dates and date-times live in the mirror as one sortable text form, ``YYYY-MM-DD HH:MM:SS.ffffff``
(``STORED_FORMAT``), so comparisons of two dates are comparisons of two strings and these functions
convert at the edges: ``TO_DATE``/``TO_TIMESTAMP`` parse with an Oracle format model (or the account's
date format), ``TO_CHAR`` renders with one, arithmetic adds days. A value that does not fit raises
``sqlite3.OperationalError``, which the engine answers as NetSuite's search error.
"""

from __future__ import annotations

import calendar
import math
import re
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

STORED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
# The account's date format (user preference) as an Oracle format model, by the sandbox config value.
ACCOUNT_DATE_MODELS = {"M/D/YYYY": "MM/DD/YYYY", "ISO": "YYYY-MM-DD"}

_TOKENS = [
    "SSSSS",
    "YEAR",
    "Year",
    "year",
    "HH24",
    "HH12",
    "YYYY",
    "MONTH",
    "Month",
    "month",
    "SYYYY",
    "RRRR",
    "FF6",
    "FF3",
    "FF",
    "MON",
    "Mon",
    "mon",
    "DDD",
    "DAY",
    "Day",
    "day",
    "YY",
    "RR",
    "RM",
    "Rm",
    "rm",
    "MM",
    "DD",
    "DS",
    "TS",
    "HH",
    "MI",
    "SS",
    "DY",
    "Dy",
    "dy",
    "AM",
    "PM",
    "A.M.",
    "P.M.",
    "IW",
    "WW",
    "Q",
    "D",
    "J",
]
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
_ONES = [
    "ZERO",
    "ONE",
    "TWO",
    "THREE",
    "FOUR",
    "FIVE",
    "SIX",
    "SEVEN",
    "EIGHT",
    "NINE",
    "TEN",
    "ELEVEN",
    "TWELVE",
    "THIRTEEN",
    "FOURTEEN",
    "FIFTEEN",
    "SIXTEEN",
    "SEVENTEEN",
    "EIGHTEEN",
    "NINETEEN",
]
_TENS = ["_", "_", "TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY"]


def _words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])


def _year_words(year: int) -> str:
    """Oracle's spelled ``YEAR``: 2024 → TWENTY TWENTY-FOUR, 2005 → TWO THOUSAND FIVE."""
    hi, lo = divmod(year, 100)
    if hi % 10 == 0 and lo < 10:
        head = _words(hi // 10) + " THOUSAND"
        return head if lo == 0 else f"{head} {_ONES[lo]}"
    if lo == 0:
        return _words(hi) + " HUNDRED"
    return f"{_words(hi)} {_words(lo)}" if lo >= 10 else f"{_words(hi)} OH-{_ONES[lo]}"


def _tokens(model: str) -> list[tuple[str, str]]:
    """An Oracle datetime format model as (kind, text) pieces: ``tok`` tokens and ``lit`` literals."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(model):
        ch = model[i]
        if ch == '"':
            j = model.find('"', i + 1)
            if j < 0:
                raise sqlite3.OperationalError("ORA-01861: literal does not match format string")
            out.append(("lit", model[i + 1 : j]))
            i = j + 1
            continue
        if model[i : i + 2].upper() == "FM":
            out.append(("fm", "FM"))
            i += 2
            continue
        for tok in _TOKENS:
            if model.startswith(tok, i) or (
                tok.isupper()
                and model[i : i + len(tok)].upper() == tok
                and tok not in ("MONTH", "MON", "DAY", "DY", "YEAR", "RM")
            ):
                out.append(("tok", model[i : i + len(tok)]))
                i += len(tok)
                break
        else:
            if ch.isalnum():
                raise sqlite3.OperationalError(f"ORA-01821: date format not recognized: {model!r}")
            out.append(("lit", ch))
            i += 1
    return out


def parse_date(value: Any, model: str) -> str:
    """``TO_DATE(value, model)``: the stored form, or ORA-018xx when the value does not fit."""
    text = str(value).strip()
    fields: dict[str, int] = {}
    pos = 0
    pm: bool | None = None
    for kind, tok in _tokens(model):
        if kind == "fm":
            continue
        if kind == "lit":
            lit = tok.strip()
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if lit and text[pos : pos + len(lit)] != lit:
                # Oracle accepts any punctuation where the model has punctuation
                if pos < len(text) and not text[pos].isalnum() and not lit.isalnum():
                    pos += 1
                    continue
                raise sqlite3.OperationalError(f"ORA-01861: literal does not match format string: {text!r}")
            pos += len(lit)
            continue
        up = tok.upper()
        if up in ("MON", "MONTH"):
            m = re.match(r"[A-Za-z]+", text[pos:])
            if not m:
                raise sqlite3.OperationalError(f"ORA-01843: not a valid month: {text!r}")
            word = m.group(0).lower()
            for n in range(1, 13):
                if calendar.month_name[n].lower() == word or calendar.month_abbr[n].lower() == word:
                    fields["month"] = n
                    break
            else:
                raise sqlite3.OperationalError(f"ORA-01843: not a valid month: {text!r}")
            pos += len(m.group(0))
            continue
        if up in ("DY", "DAY"):
            m = re.match(r"[A-Za-z]+", text[pos:])
            pos += len(m.group(0)) if m else 0
            continue
        if up in ("AM", "PM", "A.M.", "P.M."):
            word = text[pos : pos + len(tok)].upper()
            pm = word.startswith("P")
            pos += len(tok)
            continue
        width = {"YYYY": 4, "SYYYY": 5, "RRRR": 4, "DDD": 3, "FF": 9, "FF6": 6, "FF3": 3, "J": 7}.get(up, 2)
        m = re.match(rf"\d{{1,{width}}}", text[pos:])
        if not m:
            raise sqlite3.OperationalError(
                f"ORA-01858: a non-numeric character was found where a numeric was expected: {text!r}"
            )
        digits = m.group(0)
        pos += len(digits)
        n = int(digits)
        if up in ("YYYY", "SYYYY", "RRRR"):
            fields["year"] = n
        elif up in ("YY", "RR"):
            fields["year"] = 2000 + n if n < 50 else 1900 + n
        elif up == "MM":
            fields["month"] = n
        elif up == "DD":
            fields["day"] = n
        elif up in ("HH24",):
            fields["hour"] = n
        elif up in ("HH", "HH12"):
            fields["hour12"] = n
        elif up == "MI":
            fields["minute"] = n
        elif up == "SS":
            fields["second"] = n
        elif up.startswith("FF"):
            fields["micro"] = int((digits + "000000")[:6])
        else:
            raise sqlite3.OperationalError(f"ORA-01821: date format not recognized: {model!r}")
    if text[pos:].strip():
        raise sqlite3.OperationalError(
            f"ORA-01830: date format picture ends before converting entire input string: {text!r}"
        )
    hour = fields.get("hour", 0)
    if "hour12" in fields:
        hour = fields["hour12"] % 12 + (12 if pm else 0)
    today = date.today()  # noqa: DTZ011 - Oracle defaults a missing year/month to the current ones
    try:
        d = datetime(  # noqa: DTZ001 - account-time values have no zone
            fields.get("year", today.year),
            fields.get("month", today.month),
            fields.get("day", 1),
            hour,
            fields.get("minute", 0),
            fields.get("second", 0),
            fields.get("micro", 0),
        )
    except ValueError as exc:
        raise sqlite3.OperationalError(f"ORA-01847: {exc}: {text!r}") from None
    return d.strftime(STORED_FORMAT)


def stored(value: Any) -> datetime:
    """A stored date-time value back as a ``datetime``."""
    text = str(value)
    try:
        return datetime.strptime(text, STORED_FORMAT)  # noqa: DTZ007 - account-time values have no zone
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise sqlite3.OperationalError(f"ORA-01861: not a date: {text!r}") from None


def format_date(value: datetime, model: str) -> str:
    """``TO_CHAR(date, model)``."""
    out: list[str] = []
    fm = False
    for kind, tok in _tokens(model):
        if kind == "fm":
            fm = not fm
            continue
        if kind == "lit":
            out.append(tok)
            continue
        up = tok.upper()

        def case(word: str, tok: str = tok) -> str:
            if tok.isupper():
                return word.upper()
            if tok[0].isupper():
                return word.capitalize()
            return word.lower()

        if up in ("YYYY", "RRRR", "SYYYY"):
            out.append(f"{value.year:04d}")
        elif up in ("YY", "RR"):
            out.append(f"{value.year % 100:02d}")
        elif up == "MM":
            out.append(str(value.month) if fm else f"{value.month:02d}")
        elif up == "DD":
            out.append(str(value.day) if fm else f"{value.day:02d}")
        elif up == "DDD":
            out.append(f"{value.timetuple().tm_yday:03d}")
        elif up == "HH24":
            out.append(str(value.hour) if fm else f"{value.hour:02d}")
        elif up in ("HH", "HH12"):
            h = value.hour % 12 or 12
            out.append(str(h) if fm else f"{h:02d}")
        elif up == "MI":
            out.append(f"{value.minute:02d}")
        elif up == "SS":
            out.append(f"{value.second:02d}")
        elif up.startswith("FF"):
            digits = {"FF3": 3}.get(up, 6)
            out.append(f"{value.microsecond:06d}"[:digits])
        elif up == "MON":
            out.append(case(calendar.month_abbr[value.month]))
        elif up == "MONTH":
            word = case(calendar.month_name[value.month])
            out.append(word if fm else word.ljust(9))
        elif up == "DY":
            out.append(case(calendar.day_abbr[value.weekday()]))
        elif up == "DAY":
            word = case(calendar.day_name[value.weekday()])
            out.append(word if fm else word.ljust(9))
        elif up == "D":
            out.append(str((value.weekday() + 1) % 7 + 1))
        elif up in ("AM", "PM", "A.M.", "P.M."):
            word = "PM" if value.hour >= 12 else "AM"
            out.append(word if "." not in up else f"{word[0]}.{word[1]}.")
        elif up == "Q":
            out.append(str((value.month - 1) // 3 + 1))
        elif up == "IW":
            out.append(f"{value.isocalendar()[1]:02d}")
        elif up == "WW":
            out.append(f"{(value.timetuple().tm_yday - 1) // 7 + 1:02d}")
        elif up == "J":
            out.append(str(value.toordinal() + 1721425))
        elif up == "SSSSS":
            out.append(f"{value.hour * 3600 + value.minute * 60 + value.second:05d}")
        elif up == "RM":
            out.append(case(_ROMAN[value.month - 1]))
        elif up == "YEAR":
            out.append(case(_year_words(value.year)))
        elif up == "DS":  # the short date of the AMERICA territory
            out.append(f"{value.month:02d}/{value.day:02d}/{value.year:04d}")
        elif up == "TS":  # the short time of the AMERICA territory
            out.append(
                f"{value.hour % 12 or 12:02d}:{value.minute:02d}:{value.second:02d} "
                f"{'PM' if value.hour >= 12 else 'AM'}"
            )
    return "".join(out)


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise sqlite3.OperationalError(f"ORA-01722: invalid number: {value!r}") from None


def number_text(value: Any) -> str:
    """Oracle's ``TO_CHAR(number)``: shortest form, no trailing zeros, ``.5`` for one half."""
    d = _dec(value)
    if d == d.to_integral_value():
        return str(int(d))
    text = format(d.normalize(), "f")
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def format_number(value: Any, model: str) -> str:
    """``TO_CHAR(number, model)`` for the common models (``9``, ``0``, ``.``/``D``, ``,``/``G``, ``FM``, ``$``)."""
    fm = model.upper().startswith("FM")
    body = model[2:] if fm else model
    dollar = "$" in body
    body = body.replace("$", "").replace("D", ".").replace("G", ",")
    if not re.fullmatch(r"[90,]*(\.[90]*)?", body):
        raise sqlite3.OperationalError(f"ORA-01481: invalid number format model: {model!r}")
    int_part, _, frac_part = body.partition(".")
    d = _dec(value)
    q = Decimal(1).scaleb(-len(frac_part))
    d = d.quantize(q, rounding="ROUND_HALF_UP")
    sign = "-" if d < 0 else ""
    digits = format(abs(d), "f")
    whole, _, frac = digits.partition(".")
    int_digits = int_part.replace(",", "")
    if len(whole) > len(int_digits) and not (whole == "0" and int_digits == ""):
        return "#" * (len(model) + 1)
    zero_from = int_digits.find("0")
    if zero_from >= 0:
        whole = whole.rjust(len(int_digits) - zero_from, "0")
    elif whole == "0" and frac_part:
        whole = ""
    if "," in int_part:
        whole = f"{int(whole or 0):,}" if whole else whole
    text = (f"${whole}" if dollar else whole) + (f".{frac}" if frac_part else "")
    text = sign + text
    if fm:
        return text
    width = len(body) + (1 if dollar else 0) + 1
    return text.rjust(width)


class Functions:
    """The user functions of one connection; ``now`` is the account clock (naive account time)."""

    def __init__(self, now: Callable[[], datetime], date_model: Callable[[], str]) -> None:
        self.now = now
        self.date_model = date_model
        # SQLite reports a failing user function as "user-defined function raised exception"; the
        # reason (ORA-01861 …) is kept here for the error answer
        self.last_error: str | None = None

    def _guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                self.last_error = str(exc)
                raise

        return call

    def register(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA case_sensitive_like = ON")  # Oracle's LIKE is case-sensitive
        fns: dict[str, tuple[int, Callable[..., Any]]] = {
            "ns_sysdate": (0, lambda: self.now().strftime(STORED_FORMAT)),
            "ns_to_date": (-1, self.to_date),
            "ns_to_char": (-1, self.to_char),
            "ns_to_number": (-1, _to_number),
            "ns_date_add": (2, _date_add),
            "ns_date_diff": (2, _date_diff),
            "ns_add_months": (2, _add_months),
            "ns_months_between": (2, _months_between),
            "ns_last_day": (1, lambda v: None if v is None else _last_day(v)),
            "ns_trunc_date": (2, _trunc_date),
            "ns_trunc_num": (2, _trunc_num),
            "ns_round": (2, _round),
            "ns_extract": (2, _extract),
            "ns_concat": (2, _concat),
            "ns_div": (2, _div),
            "ns_mod": (2, _mod),
            "ns_floor": (1, lambda v: None if v is None else math.floor(_dec(v))),
            "ns_ceil": (1, lambda v: None if v is None else math.ceil(_dec(v))),
            "ns_power": (2, lambda a, b: None if a is None or b is None else float(a) ** float(b)),
            "ns_sqrt": (1, lambda v: None if v is None else math.sqrt(float(v))),
            "ns_ln": (1, lambda v: None if v is None else math.log(float(v))),
            "ns_exp": (1, lambda v: None if v is None else math.exp(float(v))),
            "ns_log": (2, lambda b, v: None if b is None or v is None else math.log(float(v), float(b))),
            "ns_sign": (1, lambda v: None if v is None else (float(v) > 0) - (float(v) < 0)),
            "ns_substr": (-1, _substr),
            "ns_instr": (-1, _instr),
            "ns_pad": (-1, _pad),
            "ns_initcap": (
                1,
                lambda v: None if v is None else re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0).capitalize(), str(v)),
            ),
            "ns_translate": (3, _translate),
            "ns_regexp_substr": (-1, _regexp_substr),
            "ns_regexp_replace": (-1, _regexp_replace),
            "ns_regexp_like": (-1, _regexp_like),
            "ns_regexp_instr": (-1, _regexp_instr),
            "ns_empty_null": (1, lambda v: None if v == "" else v),
            "ns_math": (2, _math),
            "ns_atan2": (2, lambda a, b: None if a is None or b is None else math.atan2(float(a), float(b))),
            "ns_next_day": (2, _next_day),
            "ns_remainder": (2, _remainder),
            "ns_lengthb": (1, lambda v: None if v is None or v == "" else len(_text(v).encode())),
        }
        for name, (n, fn) in fns.items():
            conn.create_function(name, n, self._guard(fn), deterministic=name != "ns_sysdate")
        conn.create_aggregate("ns_listagg", -1, ListAgg)  # type: ignore[arg-type]
        conn.create_window_function("ns_sum", 1, ExactSum)  # an aggregate too: SUM(x), SUM(x) OVER (...)
        conn.create_aggregate("ns_median", 1, Median)  # type: ignore[arg-type]
        conn.create_aggregate("ns_stddev", 1, Stddev)  # type: ignore[arg-type]
        conn.create_aggregate("ns_variance", 1, Variance)  # type: ignore[arg-type]

    def to_date(self, value: Any, model: Any = None) -> str | None:
        if value is None:
            return None
        if model is None:
            model = self.date_model()
            text = str(value).strip()
            # the account format, with or without a time part the way NetSuite renders date-times
            if model == "YYYY-MM-DD" and len(text) > 10:
                return parse_date(text[:19].replace("T", " "), "YYYY-MM-DD HH24:MI:SS")
            if " " in text:
                return parse_date(
                    text, model + " HH:MI AM" if text.upper().endswith(("AM", "PM")) else model + " HH24:MI:SS"
                )
        return parse_date(value, str(model))

    def to_char(self, value: Any, model: Any = None, kind: Any = None) -> str | None:
        if value is None:
            return None
        if kind == "date":
            return format_date(stored(value), str(model) if model is not None else self.date_model())
        if kind == "number" or isinstance(value, int | float):
            return number_text(value) if model is None else format_number(value, str(model))
        return str(value)


def _to_number(value: Any, model: Any = None) -> float | int | None:
    if value is None:
        return None
    text = str(value).strip().replace(",", "") if model is not None else str(value).strip()
    d = _dec(text.replace("$", "") if model is not None else text)
    return int(d) if d == d.to_integral_value() and abs(d) < 2**63 else float(d)


def _date_add(value: Any, days: Any) -> str | None:
    if value is None or days is None:
        return None
    return (stored(value) + timedelta(days=float(days))).strftime(STORED_FORMAT)


def _date_diff(a: Any, b: Any) -> float | int | None:
    if a is None or b is None:
        return None
    seconds = (stored(a) - stored(b)).total_seconds()
    days = seconds / 86400
    return int(days) if days == int(days) else days


def _add_months(value: Any, months: Any) -> str | None:
    if value is None or months is None:
        return None
    d = stored(value)
    m = d.month - 1 + int(months)
    year, month = d.year + m // 12, m % 12 + 1
    last = calendar.monthrange(year, month)[1]
    day = last if d.day == calendar.monthrange(d.year, d.month)[1] else min(d.day, last)
    return d.replace(year=year, month=month, day=day).strftime(STORED_FORMAT)


def _months_between(a: Any, b: Any) -> float | int | None:
    if a is None or b is None:
        return None
    x, y = stored(a), stored(b)
    months = (x.year - y.year) * 12 + (x.month - y.month)
    x_last = x.day == calendar.monthrange(x.year, x.month)[1]
    y_last = y.day == calendar.monthrange(y.year, y.month)[1]
    if x.day == y.day or (x_last and y_last):
        return months
    return (
        months
        + (x.day - y.day) / 31
        + ((x.hour - y.hour) * 3600 + (x.minute - y.minute) * 60 + x.second - y.second) / (31 * 86400)
    )


def _last_day(value: Any) -> str:
    d = stored(value)
    return d.replace(day=calendar.monthrange(d.year, d.month)[1]).strftime(STORED_FORMAT)


def _trunc_date(value: Any, unit: Any) -> str | None:
    if value is None:
        return None
    d = stored(value).replace(hour=0, minute=0, second=0, microsecond=0)
    u = str(unit or "DD").upper()
    if u in ("MM", "MON", "MONTH", "RM"):
        d = d.replace(day=1)
    elif u in ("YYYY", "YEAR", "YY", "Y", "SYYYY", "RRRR", "RR"):
        d = d.replace(month=1, day=1)
    elif u == "Q":
        d = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    elif u in ("IW",):
        d -= timedelta(days=d.weekday())
    elif u in ("D", "DY", "DAY"):
        d -= timedelta(days=(d.weekday() + 1) % 7)
    elif u not in ("DD", "DDD", "J"):
        raise sqlite3.OperationalError(f"ORA-01898: too many precision specifiers: {unit!r}")
    return d.strftime(STORED_FORMAT)


def _trunc_num(value: Any, places: Any) -> float | int | None:
    if value is None:
        return None
    n = int(places or 0)
    d = _dec(value).scaleb(n).to_integral_value("ROUND_DOWN").scaleb(-n)
    return int(d) if n <= 0 else float(d)


def _round(value: Any, places: Any) -> float | int | None:
    if value is None:
        return None
    n = int(places or 0)
    d = (
        _dec(value).quantize(Decimal(1).scaleb(-n), rounding="ROUND_HALF_UP")
        if n >= 0
        else (_dec(value).scaleb(n).quantize(Decimal(1), rounding="ROUND_HALF_UP").scaleb(-n))
    )
    return int(d) if n <= 0 else float(d)


_EXTRACT = {"YEAR": "year", "MONTH": "month", "DAY": "day", "HOUR": "hour", "MINUTE": "minute", "SECOND": "second"}


def _extract(part: Any, value: Any) -> int | None:
    if value is None:
        return None
    attr = _EXTRACT.get(str(part).upper())
    if attr is None:
        raise sqlite3.OperationalError(f"ORA-30076: invalid extract field for extract source: {part}")
    return int(getattr(stored(value), attr))


def _concat(a: Any, b: Any) -> Any:
    # Oracle: NULL concatenates as the empty string, and the empty string is NULL
    text = ("" if a is None else _text(a)) + ("" if b is None else _text(b))
    return text or None


def _text(value: Any) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return number_text(value)
    return str(value)


def _div(a: Any, b: Any) -> float | int | None:
    if a is None or b is None:
        return None
    if float(b) == 0:
        raise sqlite3.OperationalError("ORA-01476: divisor is equal to zero")
    q = _dec(a) / _dec(b)
    return int(q) if q == q.to_integral_value() else float(q)


def _mod(a: Any, b: Any) -> float | int | None:
    if a is None or b is None:
        return None
    x, y = _dec(a), _dec(b)
    if y == 0:
        return int(x) if x == x.to_integral_value() else float(x)
    r = x - y * (x / y).to_integral_value("ROUND_DOWN")
    return int(r) if r == r.to_integral_value() else float(r)


def _substr(value: Any, start: Any, length: Any = None) -> str | None:
    if value is None or start is None:
        return None
    s = _text(value)
    pos = int(start)
    begin = pos - 1 if pos > 0 else (0 if pos == 0 else len(s) + pos)
    if begin < 0:
        return None
    if length is None:
        out = s[begin:]
    else:
        n = int(length)
        if n < 1:
            return None
        out = s[begin : begin + n]
    return out or None


def _instr(value: Any, sub: Any, start: Any = 1, occurrence: Any = 1) -> int | None:
    if value is None or sub is None:
        return None
    s, t = _text(value), _text(sub)
    pos, occ = int(start), int(occurrence)
    if pos > 0:
        i = pos - 2
        for _ in range(occ):
            i = s.find(t, i + 1)
            if i < 0:
                return 0
        return i + 1
    i = len(s) + pos + 1
    for _ in range(occ):
        i = s.rfind(t, 0, i + len(t) - 1)
        if i < 0:
            return 0
    return i + 1


def _pad(side: str, value: Any, width: Any, fill: Any = " ") -> str | None:
    if value is None or width is None:
        return None
    s, n, f = _text(value), int(width), str(fill if fill is not None else " ")
    if n <= 0:
        return None
    if len(s) >= n:
        return s[:n]
    pad = (f * n)[: n - len(s)]
    return pad + s if side == "L" else s + pad


def _translate(value: Any, src: Any, dst: Any) -> str | None:
    if value is None or src is None or dst is None:
        return None
    s, a, b = str(value), str(src), str(dst)
    table = {ord(c): (b[i] if i < len(b) else None) for i, c in enumerate(a)}
    return s.translate(table) or None


def _flags(match: Any) -> int:
    f = 0
    for ch in str(match or ""):
        if ch == "i":
            f |= re.IGNORECASE
        elif ch == "n":
            f |= re.DOTALL
        elif ch == "m":
            f |= re.MULTILINE
    return f


def _regexp_substr(
    value: Any, pattern: Any, pos: Any = 1, occ: Any = 1, match: Any = None, group: Any = 0
) -> str | None:
    if value is None or pattern is None:
        return None
    found = list(re.finditer(str(pattern), _text(value)[int(pos) - 1 :], _flags(match)))
    k = int(occ)
    if len(found) < k:
        return None
    return found[k - 1].group(int(group)) or None


def _regexp_replace(
    value: Any, pattern: Any, repl: Any = "", pos: Any = 1, occ: Any = 0, match: Any = None
) -> str | None:
    if value is None:
        return None
    s = _text(value)
    start = int(pos) - 1
    r = re.sub(r"\\(\d)", r"\\g<\1>", str(repl or ""))
    head, tail = s[:start], s[start:]
    k = int(occ)
    if k == 0:
        out = head + re.sub(str(pattern), r, tail, flags=_flags(match))
    else:
        hits = list(re.finditer(str(pattern), tail, _flags(match)))
        if len(hits) < k:
            return s
        m = hits[k - 1]
        out = head + tail[: m.start()] + m.expand(r) + tail[m.end() :]
    return out or None


def _regexp_like(value: Any, pattern: Any, match: Any = None) -> int | None:
    if value is None or pattern is None:
        return None
    return 1 if re.search(str(pattern), _text(value), _flags(match)) else 0


def _regexp_instr(value: Any, pattern: Any, pos: Any = 1, occ: Any = 1) -> int | None:
    if value is None or pattern is None:
        return None
    found = list(re.finditer(str(pattern), _text(value)[int(pos) - 1 :]))
    k = int(occ)
    return found[k - 1].start() + int(pos) if len(found) >= k else 0


def _math(name: Any, value: Any) -> float | None:
    if value is None:
        return None
    fn: Callable[[float], float] = getattr(math, str(name))
    try:
        return fn(float(value))
    except ValueError:
        raise sqlite3.OperationalError(f"ORA-01428: argument '{value}' is out of range") from None


def _next_day(value: Any, day: Any) -> str | None:
    if value is None or day is None:
        return None
    word = str(day).strip().lower()
    for n in range(7):
        if calendar.day_name[n].lower() == word or calendar.day_abbr[n].lower() == word:
            d = stored(value)
            ahead = (n - d.weekday() - 1) % 7 + 1
            return (d + timedelta(days=ahead)).strftime(STORED_FORMAT)
    raise sqlite3.OperationalError(f"ORA-01846: not a valid day of the week: {day!r}")


def _remainder(a: Any, b: Any) -> float | int | None:
    if a is None or b is None:
        return None
    x, y = _dec(a), _dec(b)
    if y == 0:
        raise sqlite3.OperationalError("ORA-01476: divisor is equal to zero")
    r = x - y * (x / y).to_integral_value("ROUND_HALF_EVEN")
    return int(r) if r == r.to_integral_value() else float(r)


class _Numbers:
    def __init__(self) -> None:
        self.values: list[Decimal] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(_dec(value))

    @staticmethod
    def out(d: Decimal) -> float | int:
        return int(d) if d == d.to_integral_value() else float(d)


class ExactSum:
    """Oracle's SUM over NUMBER, which is exact: the values are added as ``Decimal``, where SQLite's SUM
    adds binary doubles (12113874.13 + 5343037.07 + 60848876.79 came out 78305787.99000001). Handed
    back to SQLite as the double nearest the exact sum, which the answer writes with its digits.
    Registered as a window function, so it serves ``SUM(x) OVER (...)`` as well."""

    def __init__(self) -> None:
        self.total = Decimal(0)
        self.count = 0

    def step(self, value: Any) -> None:
        if value is not None and value != "":  # Oracle: the empty string is NULL
            self.total += _dec(value)
            self.count += 1

    def inverse(self, value: Any) -> None:
        if value is not None and value != "":
            self.total -= _dec(value)
            self.count -= 1

    def value(self) -> float | int | None:
        if self.count == 0:
            return None
        d = self.total
        return int(d) if d == d.to_integral_value() and abs(d) < 2**63 else float(d)

    def finalize(self) -> float | int | None:
        return self.value()


class Median(_Numbers):
    def finalize(self) -> float | int | None:
        v = sorted(self.values)
        if not v:
            return None
        mid = len(v) // 2
        return self.out(v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2)


class Variance(_Numbers):
    """Oracle VARIANCE/STDDEV: the sample statistic, 0 for one row."""

    def variance(self) -> Decimal | None:
        n = len(self.values)
        if n == 0:
            return None
        if n == 1:
            return Decimal(0)
        mean = sum(self.values, Decimal(0)) / n
        return sum(((x - mean) ** 2 for x in self.values), Decimal(0)) / (n - 1)

    def finalize(self) -> float | int | None:
        v = self.variance()
        return None if v is None else self.out(v)


class Stddev(Variance):
    def finalize(self) -> float | int | None:
        v = self.variance()
        return None if v is None else self.out(v.sqrt())


def _key_at(i: int) -> Callable[[tuple[Any, tuple[Any, ...]]], Any]:
    def key(row: tuple[Any, tuple[Any, ...]]) -> Any:
        return row[1][i]

    return key


class ListAgg:
    """``LISTAGG(value, sep) WITHIN GROUP (ORDER BY k1 [DESC], …)`` as
    ``ns_listagg(value, sep, 'AD…' directions, distinct 0/1, k1, k2, …)``."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, tuple[Any, ...]]] = []
        self.sep = ""
        self.directions = ""
        self.distinct = False

    def step(self, value: Any, sep: Any, directions: Any, distinct: Any, *keys: Any) -> None:
        self.sep = "" if sep is None else str(sep)
        self.directions = str(directions or "")
        self.distinct = bool(distinct)
        if value is not None:
            self.rows.append((value, keys))

    def finalize(self) -> str | None:
        rows = self.rows
        for i in reversed(range(len(self.directions))):
            desc = self.directions[i] == "D"
            present = [r for r in rows if r[1][i] is not None]
            missing = [r for r in rows if r[1][i] is None]
            present.sort(key=_key_at(i), reverse=desc)
            rows = (missing + present) if desc else (present + missing)
        values = [_text(v) for v, _ in rows]
        if self.distinct:
            seen: set[str] = set()
            values = [v for v in values if not (v in seen or seen.add(v))]  # type: ignore[func-returns-value]
        return self.sep.join(values) or None
