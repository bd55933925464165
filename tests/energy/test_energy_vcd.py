"""VCD toggle counter on a trace small enough to count by hand."""

import pytest

from codesign.energy.vcd import count_toggles
from codesign.errors import CodesignError

VCD = """$timescale 1ps $end
 $scope module top $end
  $var wire 1 ! clk $end
  $var wire 1 " en $end
  $var wire 4 # data [3:0] $end
  $var wire 4 # data_alias [3:0] $end
 $upscope $end
$enddefinitions $end
#0
0!
0"
b0000 #
#5
1!
1"
b0011 #
#10
0!
#15
1!
b0101 #
0"
#20
0!
#25
1!
bx101 #
"""


def test_hand_counted_toggles(tmp_path):
    p = tmp_path / "t.vcd"
    p.write_text(VCD)
    c = count_toggles(p)
    # en: 0->1->0 = 2; data: 0000->0011 (2) ->0101 (2) ->x101 (x reads 0: none) = 4
    assert c["toggles"] == 6
    assert c["cycles"] == 3  # rising clock edges
    assert c["nets"] == 2 and c["bits"] == 5  # the alias is the same net
    assert c["rate"] == pytest.approx(6 / (5 * 3))


def test_no_clock_is_an_error(tmp_path):
    p = tmp_path / "t.vcd"
    p.write_text(VCD.replace(" clk ", " clock "))
    with pytest.raises(CodesignError, match="no clock net named 'clk'"):
        count_toggles(p)
