"""Settlement settings for tests: every fee and adjustment type on an account of its own."""

from __future__ import annotations

from typing import Any

from bridge.mapping.settlement_spec import SettlementSettings

ACCOUNTS = {
    "clearing": "1250", "bank": "1000", "variance": "6900", "reserve": "1260",
    "sales": "4000", "returns": "4010", "discounts": "4020", "shipping_income": "4100", "shipping": "6200",
    "fbt": "6210", "commission": "6110", "referral": "6111", "transaction": "6120", "affiliate": "6130",
    "fees": "6100", "admin_fee": "6140", "tax": "2250", "vat": "2251", "adjust": "6190", "chargeback": "6191",
    "reimburse": "4200", "ship_adjust": "6220",
}


def settings_dict(**over: Any) -> dict[str, Any]:
    a = ACCOUNTS
    base: dict[str, Any] = {
        "subsidiary": "1", "currencies": {"USD": "1", "GBP": "2", "JPY": "3"},
        "dimensions": {"class": "7", "department": "8"},
        "clearing_account": a["clearing"], "reserve_account": a["reserve"], "variance_account": a["variance"],
        "accounts": {
            "revenue": {"default": a["sales"], "refund_subtotal_before_discount_amount": a["returns"],
                        "seller_discount_amount": a["discounts"], "seller_discount_refund_amount": a["discounts"]},
            "shipping": {"default": a["shipping"], "customer_paid_shipping_fee_amount": a["shipping_income"],
                         "shipping_fee_discount_amount": a["shipping_income"], "fbt_fulfillment_fee_amount": a["fbt"]},
            "fee": {"default": a["fees"], "platform_commission_amount": a["commission"],
                    "referral_fee_amount": a["referral"], "transaction_fee_amount": a["transaction"],
                    "affiliate_commission_amount": a["affiliate"], "refund_administration_fee_amount": a["admin_fee"]},
            "tax": {"default": a["tax"], "vat_amount": a["vat"]},
            "adjustment": {"default": a["adjust"], "CHARGE_BACK": a["chargeback"],
                           "LOGISTICS_REIMBURSEMENT": a["reimburse"], "SHIPPING_FEE_ADJUSTMENT": a["ship_adjust"],
                           "dimensions": {"department": "9"}},
        },
        "deposit": {"bank_account": a["bank"]},
        "receivable": {"platform_discount_account": "4030", "sales_tax_account": "2200", "difference_account": "6901",
                       "ar_account": "1100"},
    }
    base.update(over)
    return base


def settings(**over: Any) -> SettlementSettings:
    return SettlementSettings.model_validate(settings_dict(**over))
