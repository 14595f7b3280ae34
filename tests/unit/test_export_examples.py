"""The committed samples in docs/examples are still valid: OpenTimelineIO reads each timeline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

otio = pytest.importorskip("opentimelineio")
_ADAPTERS = set(otio.adapters.available_adapter_names())
# The adapters are separate PyPI packages since OTIO 0.17: otio-cmx3600-adapter, otio-fcp-adapter,
# otio-fcpx-xml-adapter (all in the dev extra).
pytestmark = pytest.mark.skipif(
    not {"cmx_3600", "fcp_xml", "fcpx_xml"} <= _ADAPTERS, reason="OpenTimelineIO adapters not installed"
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
pytestmark = [
    pytestmark,
    pytest.mark.skipif(not (EXAMPLES / "space-mission.edl").exists(), reason="no samples"),
]


def clips(timeline) -> list:
    return [c for c in timeline.video_tracks()[0] if isinstance(c, otio.schema.Clip)]


def test_sample_edl_and_xmeml_read_back() -> None:
    edl = otio.adapters.read_from_file(str(EXAMPLES / "space-mission.edl"), "cmx_3600", rate=25)
    xml = otio.adapters.read_from_file(str(EXAMPLES / "space-mission.xml"), "fcp_xml")
    import json

    first = json.loads((EXAMPLES / "space-mission-results.json").read_text())["results"][0]
    name = first["path"].rsplit("/", 1)[-1]
    for tl in (edl, xml):
        cs = clips(tl)
        assert len(cs) == 4
        assert cs[0].source_range.start_time.to_seconds() == pytest.approx(first["start"], abs=0.04)
        assert cs[0].media_reference.target_url.endswith(name)


def test_sample_fcpxml_reads_back() -> None:
    root = ET.parse(EXAMPLES / "space-mission.fcpxml").getroot()
    for asset in root.iter("asset"):  # the adapter predates FCPXML 1.9's <media-rep>
        asset.set("src", asset.find("media-rep").get("src"))
    tl = otio.adapters.read_from_string(ET.tostring(root, encoding="unicode"), "fcpx_xml")[0]
    assert len(clips(tl)) == 4


def test_every_format_has_a_sample() -> None:
    names = {p.name for p in EXAMPLES.iterdir()}
    for suffix in (".csv", ".json", ".edl", ".fcpxml", ".xml", ".m3u8", "-sheet.html", "-sheet.png"):
        assert any(n.endswith(suffix) for n in names), suffix
    assert any(n.startswith("space-mission-markers-") for n in names)
    assert any((EXAMPLES / "clips").iterdir())
