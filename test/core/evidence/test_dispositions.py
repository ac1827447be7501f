"""Which operator dispositions are refused, with every problem named."""

from inspection_msgs.msg import Disposition
from inspection_nodes.core.evidence.dispositions import DispositionKind, disposition_problems


def test_kinds_are_the_message_codes():
    for kind in DispositionKind:
        assert getattr(Disposition, kind.name) == kind


def test_a_complete_disposition_passes_and_a_bad_one_lists_every_problem():
    assert disposition_problems("u1", "anna", DispositionKind.FALSE_REJECT, 123) == []
    assert disposition_problems("", "", 9, 0) == [
        "unit_id is empty",
        "operator_id is empty",
        "disposition 9 unknown",
        "header.stamp (capture stamp) is zero",
    ]
