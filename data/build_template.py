"""Write data/template/站点名单模板.xlsx: the import template (headers and one example row).

The layout is `stations export`'s, so a clerk can fill the template, or edit an export, and
import either with `stations import FILE --dataset DIR`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.io.export import TEMPLATE_COLUMNS

EXAMPLE = {"编号": "", "名称": "示例：南京东路爱心接力站", "类型": "户外职工爱心接力站",
           "所属区": "黄浦区", "地址": "示例地址（请替换）", "经度": "121.4796340",
           "纬度": "31.2373570", "开放时间": "周一至周五 9:00-17:00；节假日休息",
           "设施": "6+X：冰箱、无线网络", "电话": "021-00000000", "座位数": "10",
           "承办单位": "银行", "来源": "template"}


def main() -> None:
    out = Path(__file__).resolve().parent / "template" / "站点名单模板.xlsx"
    out.parent.mkdir(exist_ok=True)
    pd.DataFrame([EXAMPLE], columns=TEMPLATE_COLUMNS).to_excel(out, index=False,
                                                               sheet_name="站点名单")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
