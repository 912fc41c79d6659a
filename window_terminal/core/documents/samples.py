"""Realistic example snapshots of every document kind (for previews, demos and tests).

``sample_snapshot(kind)`` returns a fresh deep copy, so callers may change it freely.
"""

from __future__ import annotations

import copy
from typing import Any

_HALL = "锦江区政务服务中心"
_OFFICE = "成都市锦江区行政审批局"
_APPLICANT = {
    "name": "张晓梅",
    "id_type": "居民身份证",
    "id_number": "5101**********123X",
    "phone": "138****5678",
}
_AGENT = {
    "name": "李建国",
    "id_type": "居民身份证",
    "id_number": "5101**********4521",
    "phone": "139****0021",
}
_ITEM = {"code": "510104-SC-0012", "name": "食品经营许可（新办）", "statutory_days": 20, "promised_days": 5}
_APPEAL = {
    "reconsideration_days": 60,
    "reconsideration_body": "成都市锦江区人民政府",
    "lawsuit_months": 6,
    "court": "成都铁路运输第一法院",
}
_COMMON: dict[str, Any] = {
    "issued_at": "2026-11-21T10:32:05+08:00",
    "hall": _HALL,
    "office": _OFFICE,
    "case_no": "JJ2026112100031",
    "query_code": "Q7K4-M9PX-2D",
    "applicant": _APPLICANT,
    "agent": None,
    "item": _ITEM,
    "window": 3,
    "clerk": "王芳",
    "notes": [],
}

_SAMPLES: dict[str, dict[str, Any]] = {
    "materials_receipt": {
        **_COMMON,
        "kind": "materials_receipt",
        "number": "锦审批收〔2026〕第0012号",
        "received_at": "2026-11-21T10:32:05+08:00",
        "notice_limit_days": 5,
        "materials_received": [
            {"name": "食品经营许可申请书", "originals": 1, "copies": 0},
            {"name": "营业执照", "originals": 0, "copies": 1},
            {"name": "法定代表人身份证明", "originals": 0, "copies": 1},
        ],
        "dates": {"received": "2026-11-21", "notice_due": "2026-11-27"},
    },
    "acceptance_notice": {
        **_COMMON,
        "kind": "acceptance_notice",
        "number": "JJ-SL-20261121-0007",
        "agent": _AGENT,
        "materials_received": [
            {"name": "食品经营许可申请书", "originals": 1, "copies": 0},
            {"name": "营业执照", "originals": 0, "copies": 1},
            {"name": "法定代表人身份证明", "originals": 0, "copies": 1},
            {"name": "经营场所平面布局图", "originals": 1, "copies": 0},
            {"name": "授权委托书", "originals": 1, "copies": 0},
        ],
        "commitments": [{"name": "食品安全管理制度文本"}],
        "dates": {
            "received": "2026-11-21",
            "accepted": "2026-11-21",
            "promised": "2026-11-27",
            "statutory": "2026-12-18",
        },
        "provisional": False,
    },
    "one_time_notice": {
        **_COMMON,
        "kind": "one_time_notice",
        "number": "JJ-BZ-20261121-0003",
        "materials_received": [
            {"name": "食品经营许可申请书", "originals": 1, "copies": 0},
            {"name": "营业执照", "originals": 0, "copies": 1},
        ],
        "materials_missing": [
            {
                "name": "法定代表人身份证明",
                "form": "复印件1份（核验原件）",
                "requirement": "有效期内的身份证件原件，现场核验后退回",
                "reason": "未提交",
            },
            {
                "name": "经营场所平面布局图",
                "form": "原件1份，标明尺寸及功能分区",
                "reason": "未标注加工操作区与库房位置",
            },
            {"name": "食品安全管理制度文本", "form": "原件1份，加盖公章", "reason": "缺少进货查验记录制度"},
            {"name": "食品安全管理人员健康证明", "form": "复印件1份", "reason": "已过有效期（2026年10月）"},
        ],
        "dates": {"received": "2026-11-21", "supplement_deadline": "2027-01-04"},
        "provisional": True,
        "notes": ["补正材料可通过“天府通办”在线提交。"],
    },
    "deficiency_acceptance_notice": {
        **_COMMON,
        "kind": "deficiency_acceptance_notice",
        "number": "JJ-RQ-20261121-0002",
        "materials_received": [
            {"name": "食品经营许可申请书", "originals": 1, "copies": 0},
            {"name": "营业执照", "originals": 0, "copies": 1},
            {"name": "经营场所平面布局图", "originals": 1, "copies": 0},
        ],
        "materials_deferred": [
            {"name": "食品安全管理人员培训合格证明", "form": "复印件1份"},
            {"name": "经营场所租赁合同", "form": "复印件1份（核验原件）"},
        ],
        "dates": {
            "received": "2026-11-21",
            "accepted": "2026-11-21",
            "supplement_deadline": "2026-11-26",
            "promised": "2026-11-27",
            "statutory": "2026-12-18",
        },
        "provisional": False,
    },
    "non_acceptance_notice": {
        **_COMMON,
        "kind": "non_acceptance_notice",
        "number": "JJ-BY-20261121-0001",
        "item": {
            "code": "510104-JT-0031",
            "name": "道路货物运输经营许可",
            "statutory_days": 20,
            "promised_days": 10,
        },
        "reason": "申请人拟从事的危险货物道路运输经营，依法由设区的市级交通运输主管部门实施许可",
        "reason_kind": "not_competent",
        "competent_office": "成都市交通运输局",
        "materials_received": [{"name": "道路危险货物运输经营申请表", "originals": 1, "copies": 0}],
        "dates": {"received": "2026-11-21"},
        "appeal": _APPEAL,
    },
    "completion_notice": {
        **_COMMON,
        "kind": "completion_notice",
        "number": "JJ-BJ-20261127-0015",
        "issued_at": "2026-11-27T09:15:00+08:00",
        "dates": {
            "received": "2026-11-21",
            "accepted": "2026-11-21",
            "decided": "2026-11-26",
            "ready": "2026-11-27",
        },
        "delivery": {"method": "pickup", "window": 8, "tracking_no": None},
    },
    "refusal_notice": {
        **_COMMON,
        "kind": "refusal_notice",
        "number": "JJ-BX-20261203-0001",
        "issued_at": "2026-12-03T16:05:00+08:00",
        "reason": "经现场核查，经营场所与有毒、有害场所及其他污染源的距离不符合《食品经营许可审查通则》的要求",
        "dates": {"received": "2026-11-21", "accepted": "2026-11-21", "decided": "2026-12-03"},
        "appeal": _APPEAL,
    },
    "approval_decision": {
        **_COMMON,
        "kind": "approval_decision",
        "number": "锦审批准许〔2026〕第0009号",
        "issued_at": "2026-11-26T15:40:00+08:00",
        "dates": {
            "received": "2026-11-21",
            "accepted": "2026-11-21",
            "decided": "2026-11-26",
            "issue_by": "2026-12-10",
        },
    },
    "extension_notice": {
        **_COMMON,
        "kind": "extension_notice",
        "number": "锦审批延〔2026〕第0002号",
        "issued_at": "2026-12-15T11:00:00+08:00",
        "dates": {
            "received": "2026-11-21",
            "accepted": "2026-11-21",
            "promised": "2026-12-11",
            "statutory": "2027-01-04",
        },
        "provisional": True,
        "extension": {
            "days": 10,
            "approver": "李明（分管副局长）",
            "reason": "需对经营场所进行现场核查，核查需协调多个部门",
            "statutory_before": "2026-12-18",
            "promised_before": "2026-11-27",
            "joint": False,
        },
    },
    "suspension_notice": {
        **_COMMON,
        "kind": "suspension_notice",
        "number": "锦审批停〔2026〕第0004号",
        "issued_at": "2026-11-24T09:30:00+08:00",
        "dates": {"received": "2026-11-21", "accepted": "2026-11-21"},
        "suspension": {
            "kind": "inspection",
            "kind_name": "现场核查",
            "reason": "核查经营场所布局与申请材料是否一致",
            "expected_days": 3,
            "started_on": "2026-11-24",
            "department": "SCJG",
        },
    },
    "service_receipt": {
        **_COMMON,
        "kind": "service_receipt",
        "number": "锦审批送〔2026〕第0015号",
        "issued_at": "2026-11-27T10:05:00+08:00",
        "dates": {"received": "2026-11-21", "accepted": "2026-11-21"},
        "delivery": {
            "method": "post",
            "tracking_no": "EMS1234567890",
            "address": "四川省成都市锦江区东大街下东大街段100号",
            "documents": [
                {"number": "锦审批准许〔2026〕第0009号", "title": "准予行政许可决定书"},
                {"number": "锦审批结〔2026〕第0015号", "title": "办结通知书"},
            ],
            "sent_at": "2026-11-27T10:05:00+08:00",
        },
    },
    "ticket": {
        "kind": "ticket",
        "number": "A007",
        "issued_at": "2026-11-21T10:32:05+08:00",
        "hall": _HALL,
        "line": "商事登记",
        "ticket_id": 18342,
        "people_ahead": 5,
        "estimated_wait_minutes": 18,
        "priority": False,
        "appointment_code": None,
    },
}


def sample_snapshot(kind: str) -> dict[str, Any]:
    """A realistic snapshot of ``kind`` (a deep copy)."""
    return copy.deepcopy(_SAMPLES[kind])


def sample_kinds() -> list[str]:
    return list(_SAMPLES)
