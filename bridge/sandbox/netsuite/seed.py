"""The default account a fresh sandbox starts with (control API ``POST /_sandbox/seed`` adds more).

Bodies are REST-shaped; ``_late`` entries are created after all others (records added to the seed
later keep every earlier id where it was); ``_special`` names an account/customer the sandbox uses for postings and
scenarios (undeposited funds, customer deposits, inventory adjustments, the TikTok clearing account).
External ids make re-seeding idempotent.
"""

from __future__ import annotations

from typing import Any

SEED_ORDER = (
    "currency",
    "subsidiary",
    "account",
    "location",
    "classification",
    "department",
    "paymentMethod",
    "shipItem",
    "salesTaxItem",
    "discountItem",
    "inventoryItem",
    "customer",
)


# Every inventory item posts to Sales, Cost of Goods Sold and Inventory Asset.
_ITEM_ACCOUNTS: dict[str, Any] = {
    "incomeAccount": {"externalId": "ACCT-4000"},
    "cogsAccount": {"externalId": "ACCT-5000"},
    "assetAccount": {"externalId": "ACCT-1300"},
}


def _price(amount: str) -> dict[str, Any]:
    return {"items": [{"priceLevel": {"id": "1"}, "price": amount}]}


def default_seed() -> dict[str, list[dict[str, Any]]]:
    us = {"id": "1"}
    usd = {"id": "1"}
    return {
        "currency": [
            {
                "externalId": "CUR-USD",
                "name": "USD",
                "symbol": "USD",
                "isBaseCurrency": True,
                "exchangeRate": "1",
                "currencyPrecision": 2,
            },
            {
                "externalId": "CUR-GBP",
                "name": "GBP",
                "symbol": "GBP",
                "isBaseCurrency": False,
                "exchangeRate": "1.27",
                "currencyPrecision": 2,
            },
        ],
        "subsidiary": [
            {"externalId": "SUB-US", "name": "TTNS Retail US", "currency": usd, "country": {"id": "US"}},
        ],
        "account": [
            {
                "externalId": "ACCT-1000",
                "acctNumber": "1000",
                "acctName": "Operating Bank",
                "acctType": {"id": "Bank"},
                "currency": usd,
                "_special": "bank",
            },
            {
                "externalId": "ACCT-1100",
                "acctNumber": "1100",
                "acctName": "Accounts Receivable",
                "acctType": {"id": "AcctRec"},
                "_special": "receivables",
            },
            {
                "externalId": "ACCT-1200",
                "acctNumber": "1200",
                "acctName": "Undeposited Funds",
                "acctType": {"id": "OthCurrAsset"},
                "_special": "undeposited",
            },
            {
                "externalId": "ACCT-1250",
                "acctNumber": "1250",
                "acctName": "TikTok Shop Clearing",
                # Bank type: deposits (a payout of nothing, a cancelled order's deposit) and customer
                # refunds use it, and NetSuite offers only Bank accounts there
                "acctType": {"id": "Bank"},
                "currency": usd,  # a bank account holds one currency: a GBP or EUR shop needs its own
                "_special": "tiktok_clearing",
            },
            {
                "externalId": "ACCT-1300",
                "acctNumber": "1300",
                "acctName": "Inventory Asset",
                "acctType": {"id": "OthCurrAsset"},
                "_special": "inventory",
            },
            {
                "externalId": "ACCT-1310",
                "acctNumber": "1310",
                "acctName": "Inventory In Transit",
                "acctType": {"id": "OthCurrAsset"},
                "_special": "in_transit",
            },
            {
                "externalId": "ACCT-2100",
                "acctNumber": "2100",
                "acctName": "Customer Deposits",
                "acctType": {"id": "OthCurrLiab"},
                "_special": "customer_deposits",
            },
            {
                "externalId": "ACCT-2200",
                "acctNumber": "2200",
                "acctName": "Sales Tax Payable",
                "acctType": {"id": "OthCurrLiab"},
                "_special": "sales_tax",
            },
            {
                "externalId": "ACCT-2400",
                "acctNumber": "2400",
                "acctName": "Inventory Received Not Billed",
                "acctType": {"id": "OthCurrLiab"},
                "_special": "received_not_billed",
            },
            {
                "externalId": "ACCT-4000",
                "acctNumber": "4000",
                "acctName": "Sales",
                "acctType": {"id": "Income"},
                "_special": "sales",
            },
            {
                "externalId": "ACCT-4050",
                "acctNumber": "4050",
                "acctName": "Sales Discounts",
                "acctType": {"id": "Income"},
                "_special": "discounts",
            },
            {
                "externalId": "ACCT-4100",
                "acctNumber": "4100",
                "acctName": "Shipping Income",
                "acctType": {"id": "Income"},
                "_special": "shipping_income",
            },
            {
                "externalId": "ACCT-5000",
                "acctNumber": "5000",
                "acctName": "Cost of Goods Sold",
                "acctType": {"id": "COGS"},
                "_special": "cogs",
            },
            {
                "externalId": "ACCT-5100",
                "acctNumber": "5100",
                "acctName": "Inventory Adjustments",
                "acctType": {"id": "Expense"},
                "_special": "adjustment",
            },
            {
                "externalId": "ACCT-6100",
                "acctNumber": "6100",
                "acctName": "Marketplace Fees",
                "acctType": {"id": "Expense"},
                "_special": "marketplace_fees",
            },
            {
                "externalId": "ACCT-6200",
                "acctNumber": "6200",
                "acctName": "Shipping Expense",
                "acctType": {"id": "Expense"},
                "_special": "shipping_expense",
            },
            {
                "externalId": "ACCT-6900",
                "acctNumber": "6900",
                "acctName": "Rounding Variance",
                "acctType": {"id": "OthExpense"},
                "_special": "rounding",
            },
        ],
        "location": [
            {"externalId": "LOC-MAIN", "name": "Main Warehouse", "makeInventoryAvailable": True},
            {"externalId": "LOC-EAST", "name": "East Warehouse", "makeInventoryAvailable": True},
            {"externalId": "LOC-FBT", "name": "TikTok FBT Warehouse", "makeInventoryAvailable": True},
        ],
        "classification": [{"externalId": "CLASS-TTS", "name": "TikTok Shop"}],
        "department": [{"externalId": "DEPT-ECOM", "name": "E-commerce"}],
        "paymentMethod": [
            {"externalId": "PM-TTS", "name": "TikTok Shop", "account": {"externalId": "ACCT-1250"}},
            {"externalId": "PM-CASH", "name": "Cash"},
        ],
        "shipItem": [
            {
                "externalId": "SHIP-STD",
                "itemId": "Standard Shipping",
                "displayName": "Standard Shipping",
                "account": {"externalId": "ACCT-4100"},
            },
            {
                "externalId": "SHIP-TTS",
                "itemId": "TikTok Shipping",
                "displayName": "Shipped by TikTok",
                "account": {"externalId": "ACCT-4100"},
            },
        ],
        "salesTaxItem": [
            {"externalId": "TAX-NONE", "itemId": "Not Taxable", "rate": "0"},
            {"externalId": "TAX-CA", "itemId": "CA State Tax", "rate": "7.25"},
        ],
        "discountItem": [
            {
                "externalId": "DISC-SELLER",
                "itemId": "TikTok Seller Discount",
                "rate": "0",
                "account": {"externalId": "ACCT-4050"},
            },
            {
                "externalId": "DISC-PLATFORM",
                "itemId": "TikTok Platform Discount",
                "rate": "0",
                "account": {"externalId": "ACCT-4050"},
            },
            {
                # buyer-paid fees (retail delivery fee, small order fee, …): the digest of record schemas
                # has no other-charge item, so the sandbox carries them on a discount item at a positive rate
                "externalId": "FEE-BUYER",
                "_late": True,
                "itemId": "TikTok Buyer Fees",
                "rate": "0",
                "account": {"externalId": "ACCT-4100"},
            },
        ],
        "inventoryItem": [
            {
                "externalId": "ITEM-TSHIRT",
                "itemId": "TSHIRT",
                "displayName": "Logo T-Shirt",
                "matrixType": {"id": "PARENT"},
                **_ITEM_ACCOUNTS,
                "price": _price("19.99"),
            },
            {
                "externalId": "ITEM-TSHIRT-RED-M",
                "itemId": "TSHIRT-RED-M",
                "displayName": "Logo T-Shirt Red M",
                "upcCode": "0012345000011",
                "matrixType": {"id": "CHILD"},
                "parent": {"externalId": "ITEM-TSHIRT"},
                **_ITEM_ACCOUNTS,
                "price": _price("19.99"),
                "cost": "6.50",
            },
            {
                "externalId": "ITEM-TSHIRT-BLUE-L",
                "itemId": "TSHIRT-BLUE-L",
                "displayName": "Logo T-Shirt Blue L",
                "upcCode": "0012345000028",
                "matrixType": {"id": "CHILD"},
                "parent": {"externalId": "ITEM-TSHIRT"},
                **_ITEM_ACCOUNTS,
                "price": _price("21.99"),
                "cost": "6.80",
            },
            {
                "externalId": "ITEM-MUG",
                "itemId": "MUG-001",
                "displayName": "Ceramic Mug",
                "upcCode": "0012345000035",
                **_ITEM_ACCOUNTS,
                "price": _price("12.50"),
                "cost": "3.10",
            },
            {
                "externalId": "ITEM-CAP",
                "itemId": "CAP-001",
                "displayName": "Baseball Cap",
                "upcCode": "0012345000042",
                **_ITEM_ACCOUNTS,
                "price": _price("15.00"),
                "cost": "4.00",
            },
        ],
        "customer": [
            {
                "externalId": "CUST-WALKIN",
                "companyName": "Walk-in Customer",
                "isPerson": False,
                "subsidiary": us,
                "currency": usd,
                "_special": "walkin_customer",
            },
            {
                "externalId": "CUST-TTS",
                "companyName": "TikTok Shop Customers",
                "isPerson": False,
                "subsidiary": us,
                "currency": usd,
                "_special": "tiktok_customer",
            },
        ],
    }


def _bank(external_id: str, name: str, currency: str) -> dict[str, Any]:
    return {"externalId": external_id, "acctNumber": external_id[5:], "acctName": name, "acctType": {"id": "Bank"},
            "currency": {"externalId": currency}}


def uk_seed() -> dict[str, list[dict[str, Any]]]:
    """A UK business next to the default US one (the sandbox world adds it; the sandbox overlay's
    orders.yaml ``markets.GB`` names it): a UK subsidiary in GBP, a UK warehouse, the customer UK
    orders are booked to, and the item carrying output VAT of VAT-inclusive TikTok prices (a discount
    item at a positive rate, like FEE-BUYER, posting to the tax liability)."""
    return {
        "subsidiary": [{"externalId": "SUB-UK", "name": "TTNS Retail UK", "currency": {"externalId": "CUR-GBP"},
                        "country": {"id": "GB"}}],
        "location": [{"externalId": "LOC-UK", "name": "UK Warehouse", "makeInventoryAvailable": True}],
        "customer": [{"externalId": "CUST-TTS-UK", "companyName": "TikTok Shop Customers UK", "isPerson": False,
                      "subsidiary": {"externalId": "SUB-UK"}, "currency": {"externalId": "CUR-GBP"}}],
        "discountItem": [{"externalId": "VAT-UK", "itemId": "UK VAT 20%", "rate": "0",
                          "account": {"externalId": "ACCT-2200"}}],
        # a bank account holds one currency: the UK business's bank and TikTok Shop clearing are in GBP
        "account": [_bank("ACCT-1010", "Operating Bank GBP", "CUR-GBP"),
                    _bank("ACCT-1251", "TikTok Shop Clearing GBP", "CUR-GBP")],
    }


def eu_seed() -> dict[str, list[dict[str, Any]]]:
    """A German business (the sandbox overlay's orders.yaml ``markets.DE`` names it), kept the way a
    UK/EU NetSuite account keeps VAT: a DE subsidiary in EUR, a DE warehouse, its customer, and a tax
    code per VAT rate (19 % standard, 7 % reduced) that each line carries, instead of a VAT item; the
    shipping charge line's item (a discount item at a positive rate, like FEE-BUYER)."""
    return {
        "currency": [{"externalId": "CUR-EUR", "name": "EUR", "symbol": "EUR", "isBaseCurrency": False,
                      "exchangeRate": "1.08", "currencyPrecision": 2}],
        "subsidiary": [{"externalId": "SUB-DE", "name": "TTNS Retail DE", "currency": {"externalId": "CUR-EUR"},
                        "country": {"id": "DE"}}],
        "location": [{"externalId": "LOC-DE", "name": "DE Warehouse", "makeInventoryAvailable": True}],
        "customer": [{"externalId": "CUST-TTS-DE", "companyName": "TikTok Shop Kunden DE", "isPerson": False,
                      "subsidiary": {"externalId": "SUB-DE"}, "currency": {"externalId": "CUR-EUR"}}],
        "salesTaxItem": [{"externalId": "VAT-DE-19", "itemId": "DE USt 19%", "rate": "19"},
                         {"externalId": "VAT-DE-7", "itemId": "DE USt 7%", "rate": "7"},
                         {"externalId": "VAT-DE-0", "itemId": "DE USt 0% (not taxable)", "rate": "0"}],
        "discountItem": [{"externalId": "SHIP-CHG-DE", "itemId": "Versand (TikTok)", "rate": "0",
                          "account": {"externalId": "ACCT-4100"}}],
        "account": [_bank("ACCT-1020", "Operating Bank EUR", "CUR-EUR"),
                    _bank("ACCT-1252", "TikTok Shop Clearing EUR", "CUR-EUR")],
    }
