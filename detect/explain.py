"""What a reviewer should check next, per indicator: the follow-up half of every explanation.

The sentences name the source records that confirm or refute a flag (for revenue: the non-tax
items — state-asset sales, fines, fees; for GDP: electricity and VAT by sector), following the
audit practice described in the National Audit Office's reports on local fiscal revenue
(审计署 2017 年第 1 号公告 on 虚增财政收入) and the NBS 2017–2018 corrections of regional GDP.
"""

from __future__ import annotations

_CHECK: dict[str, tuple[str, str]] = {
    "fiscal_revenue": (
        "check the non-tax items behind revenue (state-asset sales, fines and confiscations, administrative fees, "
        "'空转' circular payments) against treasury records, and revenue refunded in the following year",
        "核查非税收入明细（国有资源资产有偿使用收入、罚没收入、行政事业性收费）与国库入库记录，关注“空转”和次年退库"),
    "nontax_revenue": (
        "check the non-tax items (state-asset sales, fines, fees) and whether they were paid back to the payers",
        "核查非税收入明细（国有资产处置、罚没、收费）及是否存在先征后返、虚收空转"),
    "tax_revenue": (
        "check tax receipts against the tax bureau's collection records and VAT invoices by sector",
        "将税收收入与税务部门征收记录及分行业增值税发票数据核对"),
    "vat_revenue": ("check VAT receipts by sector against invoice data", "按行业核对增值税入库与发票数据"),
    "gdp": (
        "check GDP against electricity consumption, VAT and rail freight by sector, and the NBS unified-accounting revision",
        "将地区生产总值与分行业用电量、增值税、铁路货运量核对，并对照国家统计局统一核算修订数"),
    "gdp_real_growth": (
        "check the growth figure against its own level series, electricity and VAT, and the announced target",
        "将增速与总量数据、用电量、增值税及年初目标对照核查"),
    "gdp_secondary": ("check industrial value added against industrial electricity use and enterprise survey data",
                      "将第二产业增加值与工业用电量、规上企业统计报表核对"),
    "industrial_output": ("check industrial output against enterprise-level reports and industrial electricity use",
                          "将工业产值与企业直报数据、工业用电量核对"),
    "industrial_va": ("check industrial value added against enterprise-level reports, industrial VAT and "
                      "industrial electricity use",
                      "将工业增加值与企业直报数据、工业增值税、工业用电量核对"),
    "investment": ("check fixed-asset investment against project ledgers and building-permit records",
                   "将固定资产投资与项目台账、施工许可记录核对"),
    "debt_balance": (
        "check the debt balance against the debt-management system (债务管理系统) and bank / bond records, "
        "and look for off-budget borrowing through LGFVs and guarantees",
        "将债务余额与政府债务管理系统、银行及债券登记数据核对，排查融资平台和违规担保等隐性举债"),
    "lgfv_debt": ("check LGFV borrowing, guarantees and half-finished projects funded by debt",
                  "核查融资平台举债、违规担保及举债建设的“半拉子”工程"),
    "pm25": ("check monitoring-station data for interference (station relocation, spraying, data deletion)",
             "核查监测站点数据是否受到干预（站点迁移、喷淋降尘、删改数据）"),
    "electricity": ("check electricity data against the grid company's records", "将用电量与电网公司数据核对"),
    "interest_paid": ("check interest paid against the bond and loan repayment schedules and the budget's interest line",
                      "将利息支出与债券、贷款还本付息计划及预算付息科目核对"),
    "debt_service": ("check debt service against the repayment schedules, refinancing bonds (再融资债券) issued "
                     "and any deferred repayments",
                     "将偿债支出与还本付息计划、再融资债券发行及展期情况核对"),
    "fund_revenue": ("check government-fund revenue against land-transfer contracts and the land-reserve "
                     "centre's accounts, including land sold to LGFVs",
                     "将政府性基金收入与土地出让合同、土地储备中心账目核对，关注向融资平台出让土地"),
    "land_revenue": ("check land-sale revenue against the transfer contracts and whether the buyers were the "
                     "government's own LGFVs",
                     "将土地出让收入与出让合同核对，关注受让方是否为本级融资平台"),
    "fiscal_expenditure": ("check expenditure against the final accounts (决算) and the treasury's payment records",
                           "将财政支出与决算报表及国库支付记录核对"),
    "transfer_revenue": ("check transfers received against the higher level's transfer notices",
                         "将上级补助收入与上级转移支付文件核对"),
    "night_lights": ("check the night-light series for sensor changes (DMSP to VIIRS) and cloud or fire "
                     "contamination before reading it as an economic signal",
                     "核查夜间灯光数据是否受传感器更替（DMSP至VIIRS）、云层或火点影响，再作经济判断"),
    "rail_freight": ("check rail freight against the railway bureau's station statistics",
                     "将铁路货运量与铁路局站点统计核对"),
    "population": ("check population against the census and the public-security household registers",
                   "将人口数据与人口普查及公安户籍数据核对"),
}
_DEFAULT = ("check the figure against its source records and the statistical bureau's working papers",
            "将该数据与原始记录及统计部门工作底稿核对")
_BY_FAMILY = {
    "digits": ("pull the records behind the over-represented digits and check how the figures were compiled",
               "调取异常数字对应的原始记录，核查数据是如何编制的"),
}


def what_to_check(indicator: str, family: str = "", lang: str = "en") -> str:
    """One sentence: which records to pull next for a flag on ``indicator``."""
    en, zh = _BY_FAMILY.get(family) or _CHECK.get(indicator, _DEFAULT)
    return zh if lang == "zh" else en
