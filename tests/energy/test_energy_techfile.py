"""Technology YAML files: the shipped ones load and cite sources; bad files name the key."""

import copy

import pytest
import yaml

from codesign.energy import constants
from codesign.energy.techfile import default_dir, load, load_all, parse
from codesign.errors import CodesignError

GOOD = {
    "technology": "t",
    "kind": "reram",
    "actions": {
        "adc_8bit_conversion": {"value": 1.0, "unit": "pJ", "source": "s"},
        "dac_1bit_conversion": {"value": 1.0, "unit": "pJ", "source": "s"},
        "shift_add": {"value": 1.0, "unit": "fJ", "source": "s"},
        "requant_mult32": {"value": 1.0, "unit": "pJ", "source": "s"},
        "requant_add32": {"value": 1.0, "unit": "pJ", "source": "s"},
    },
}


def test_shipped_files_load_and_every_constant_has_a_source():
    techs = load_all()
    assert {"asic45", "fpga_xc7", "reram", "sfq"} <= set(techs)
    for t in techs.values():
        for name, c in t.actions.items():
            assert c.source.strip(), f"{t.name}.{name} has no source"
            assert c.value >= 0


def test_asic45_yaml_equals_the_constants_digital_py_uses():
    t = load(default_dir() / "asic45.yaml")
    h = constants.HOROWITZ_45NM
    for k in ("add8", "mult8", "add32", "mult32", "fadd32", "fmult32"):
        assert t.si(k) == pytest.approx(h[k] * 1e-12)
    sram = dict(h["sram64"])
    assert t.si("sram_8KB_read64") == pytest.approx(sram[8 * 1024] * 1e-12)
    assert t.si("sram_1MB_read64") == pytest.approx(sram[1024 * 1024] * 1e-12)


def test_units_convert_to_si():
    t = parse(GOOD, "x.yaml")
    assert t.si("shift_add") == pytest.approx(1e-15)
    assert t.citations()["shift_add"] == {
        "value": pytest.approx(1.0),
        "unit": "fJ",
        "source": "s",
        "assumed": False,
    }


def _bad(mutate):
    d = copy.deepcopy(GOOD)
    mutate(d)
    with pytest.raises(CodesignError) as e:
        parse(d, "bad.yaml")
    return str(e.value)


def test_missing_unit_names_the_key():
    msg = _bad(lambda d: d["actions"]["shift_add"].pop("unit"))
    assert "bad.yaml" in msg and "actions.shift_add.unit" in msg


def test_negative_energy_names_the_key():
    msg = _bad(lambda d: d["actions"]["adc_8bit_conversion"].update(value=-1.0))
    assert "actions.adc_8bit_conversion.value" in msg and "negative" in msg


def test_unknown_action_names_it():
    msg = _bad(lambda d: d["actions"].update(adc_16bit={"value": 1, "unit": "pJ", "source": "s"}))
    assert "actions.adc_16bit" in msg and "unknown action" in msg


def test_wrong_dimension_and_missing_action_and_kind():
    assert "expected a energy" in _bad(lambda d: d["actions"]["shift_add"].update(unit="mW"))
    assert "actions.requant_add32: missing" in _bad(lambda d: d["actions"].pop("requant_add32"))
    assert "kind 'memristor'" in _bad(lambda d: d.update(kind="memristor"))
    assert "not a number" in _bad(lambda d: d["actions"]["shift_add"].update(value="1 pJ"))


def test_a_user_adds_a_technology_by_adding_a_file(tmp_path):
    d = copy.deepcopy(GOOD)
    d["technology"] = "reram_22nm"
    (tmp_path / "reram_22nm.yaml").write_text(yaml.safe_dump(d))
    assert set(load_all(tmp_path)) == {"reram_22nm"}
    (tmp_path / "broken.yaml").write_text("technology: [unclosed")
    with pytest.raises(CodesignError, match="broken.yaml"):
        load_all(tmp_path)


def test_fpga_constants_are_derived_or_say_why_they_are_assumed():
    techs = load_all()
    f, a = techs["fpga_xc7"], techs["asic45"]
    # DSP MAC: Kuon & Rose's ~12x FPGA/ASIC dynamic-power gap x Horowitz 8-bit mult + 32-bit add
    assert f.si("dsp_op") == pytest.approx(12 * (a.si("mult8") + a.si("add32")), rel=1e-9)
    assert not f.actions["dsp_op"].assumed and "Kuon & Rose" in f.actions["dsp_op"].source
    # BRAM read: VTR 40 nm 32 Kb block RAM, 9.0e-12 J per clock toggle x density 2 / 2
    assert f.si("bram_read") == pytest.approx(9.0e-12 * 2 / 2, rel=1e-9)
    bram = f.actions["bram_read"]
    assert not bram.assumed and "k6_frac_N10_mem32K_40nm" in bram.source
    # fabric toggles: a public vectorless Vivado report of a 100 MHz MLP on an XC7A35T
    # (simonandz/fpga-power-test-accel mlp_top_power_routed.rpt): LUT as Logic 0.002 W / 811,
    # Signals 0.004 W / 1,522 nets, at the 12.5 % default toggle rate; one net per cell output
    toggles = 0.125 * 100e6
    net = 0.004 / (1522 * toggles)
    assert f.si("lut_toggle") == pytest.approx(0.002 / (811 * toggles) + net, rel=0.01)
    assert net < f.si("ff_toggle") < net + 0.026e-12  # Register '<0.001 W' bounds its own part
    assert net < f.si("carry4_toggle") < net + 0.063e-12  # CARRY4 '<0.001 W' bound (885 cells)
    assert f.si("static_power") == pytest.approx(0.072)  # 'Device Static (W)' of a 35T, Tj 25.5 C
    for k in ("lut_toggle", "ff_toggle", "carry4_toggle", "static_power"):
        assert not f.actions[k].assumed and "fpga-power-test-accel" in f.actions[k].source, k
    for name, c in f.actions.items():
        if c.assumed:
            assert c.source.startswith("assumed"), name
            assert len(c.source) > 40, f"{name}: say why it is assumed"


def test_every_shipped_constant_cites_a_source():
    """No constant is `assumed`: each cites a paper, data sheet, public report, cell library or
    model code. Cooling: 13 % of Carnot at 4.5 K (UKAEA PROCESS): 49.52 MW / 0.1004 MW."""
    techs = load_all()
    assumed = {(t.name, k) for t in techs.values() for k, c in t.actions.items() if c.assumed}
    assert assumed == set()
    sfq = techs["sfq"]
    assert sfq.si("cryo_factor") == pytest.approx(49.52 / 0.1004, rel=2e-3)
    assert "ukaea/PROCESS" in sfq.actions["cryo_factor"].source
    assert "BiasCoef=0.7" in sfq.actions["bias_fraction"].source
    assert sfq.si("v_bias") == pytest.approx(2.6e-3) and "Volkmann" in sfq.actions["v_bias"].source
