import pytest

from services.metrics.definitions.models import Direction
from services.metrics.performance.schemas import Status
from services.metrics.performance.service import status_of

H, L, C = Direction.higher_is_better, Direction.lower_is_better, Direction.closer_is_better


@pytest.mark.parametrize(
    ("value", "target", "tolerance", "direction", "expected"),
    [
        (0.95, 0.90, 0.05, H, Status.on_target),
        (0.90, 0.90, 0.05, H, Status.on_target),
        (0.86, 0.90, 0.05, H, Status.near),
        (0.85, 0.90, 0.05, H, Status.near),
        (0.84, 0.90, 0.05, H, Status.off_target),
        (4.0, 5.0, 1.0, L, Status.on_target),
        (5.5, 5.0, 1.0, L, Status.near),
        (6.5, 5.0, 1.0, L, Status.off_target),
        (10.5, 10.0, 1.0, C, Status.on_target),
        (8.5, 10.0, 1.0, C, Status.near),
        (12.5, 10.0, 1.0, C, Status.off_target),
        (0.5, None, 0.0, H, Status.no_target),
        (None, 0.9, 0.05, H, Status.missing),
        (None, None, 0.0, H, Status.missing),
    ],
)
def test_status_follows_the_design_rule(value, target, tolerance, direction, expected):
    assert status_of(value, target, tolerance, direction) is expected
