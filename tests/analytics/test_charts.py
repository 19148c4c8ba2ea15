import re
import xml.etree.ElementTree as ET

from defusedxml.ElementTree import fromstring

from analytics import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return fromstring(str(svg))


def test_bar_chart_is_an_accessible_svg_with_title_and_description():
    svg = charts.bar_chart(title="By system", rows=[("Renal", 80, 60, 90)], reference=50)

    root = _parse(svg)
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "By system"
    assert "Renal: 80%" in root.find(f"{SVG}desc").text
    assert root.find(f"{SVG}desc").get("id") == desc_id


def test_bar_colour_follows_whether_the_interval_excludes_the_reference():
    svg = str(
        charts.bar_chart(
            title="t",
            rows=[("Low", 20, 10, 40), ("High", 90, 70, 99), ("Same", 55, 30, 75)],
            reference=50,
        )
    )

    assert re.search(r'chart-lower.*?fill="' + charts.COLOR_LOWER, svg)
    assert re.search(r'chart-higher.*?fill="' + charts.COLOR_HIGHER, svg)
    assert re.search(r'chart-same.*?fill="' + charts.COLOR_SAME, svg)


def test_bar_lengths_are_proportional_to_the_values():
    root = _parse(charts.bar_chart(title="t", rows=[("A", 25, None, None), ("B", 100, None, None)]))

    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[1] == 4 * widths[0]


def test_labels_are_escaped():
    svg = str(charts.bar_chart(title="<b>x</b>", rows=[("<script>alert(1)</script>", 10, 5, 20)]))

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    _parse(svg)


def test_charts_use_no_style_attributes():
    for svg in (
        charts.bar_chart(title="t", rows=[("A", 30, 20, 40)], reference=50),
        charts.line_chart(title="t", points=[("1 Jun", 40), ("8 Jun", 55)], reference=50),
        charts.histogram(title="t", values=[10, 20, 20, 90], marker=20),
    ):
        assert "style=" not in str(svg)
        _parse(svg)


def test_line_chart_draws_one_point_per_value_in_order():
    root = _parse(charts.line_chart(title="Trend", points=[("a", 0), ("b", 50), ("c", 100)]))

    coords = root.find(f"{SVG}polyline").get("points").split()
    ys = [float(c.split(",")[1]) for c in coords]
    assert len(ys) == 3
    # SVG y grows downwards: 0 % is lowest on screen, 100 % highest.
    assert ys[0] > ys[1] > ys[2]
    assert ys[1] == (ys[0] + ys[2]) / 2


def test_histogram_counts_values_per_bin():
    root = _parse(
        charts.histogram(title="Peers", values=[5, 15, 15, 100], bins=10, value_range=(0, 100))
    )

    titles = [r.find(f"{SVG}title").text for r in root.iter(f"{SVG}rect")]
    assert titles[0].endswith(": 1")
    assert titles[1].endswith(": 2")
    # The top edge belongs to the last bin.
    assert titles[9].endswith(": 1")


def test_empty_charts_say_so():
    assert "No data yet." in str(charts.bar_chart(title="t", rows=[]))
    assert "No data yet." in str(charts.line_chart(title="t", points=[]))


def test_verdict_needs_the_whole_interval_on_one_side():
    assert charts.verdict(low=10, high=49.9, reference=50) == "lower"
    assert charts.verdict(low=50.1, high=70, reference=50) == "higher"
    assert charts.verdict(low=40, high=60, reference=50) == "same"
    assert charts.verdict(low=None, high=60, reference=50) is None


def test_long_bar_labels_are_shown_whole_or_ellipsized_never_cut_at_the_left_edge():
    # Issue 14: "emale Reproductive…" — a 32-character label overflowed the 200 px label
    # column to the left of the SVG and lost its first letter.
    long_name = "Musculoskeletal System, Skin & Subcutaneous Tissue, Connective Tissue"
    rows = [
        ("Female Reproductive System & Breast", 60, 50, 70),
        (long_name, 40, None, None),
        ("Renal", 80, None, None),
    ]
    root = _parse(charts.bar_chart(title="By system", rows=rows, reference=55))

    # The estimate is never below Arial's own advance widths (em), so a fitted label fits.
    arial = {
        "F": 0.611,
        "e": 0.556,
        "m": 0.833,
        "l": 0.222,
        "M": 0.833,
        "W": 0.944,
        "&": 0.667,
        "…": 1.0,
        " ": 0.278,
        "S": 0.667,
        "i": 0.222,
        "%": 0.889,
    }
    for ch, em in arial.items():
        assert charts.text_width(ch, 10) >= em * 10, ch
    shown = {}
    for g in root.iter(f"{SVG}g"):
        label = g.find(f"{SVG}text")
        x = float(label.get("x"))
        assert label.get("text-anchor") == "end"
        # The text ends at x and must start inside the picture, with room to spare.
        assert charts.text_width(label.text, 12) <= x, label.text
        shown[g.find(f"{SVG}title").text] = label.text
    assert shown["Female Reproductive System & Breast"] == "Female Reproductive System & Breast"
    assert shown["Renal"] == "Renal"
    assert shown[long_name].endswith("…")
    assert long_name.startswith(shown[long_name][:-1].rstrip())
    # The bars begin right of the widened label column and still fit the chart.
    width = float(root.get("viewBox").split()[2])
    for rect in root.iter(f"{SVG}rect"):
        assert float(rect.get("x")) + float(rect.get("width")) <= width
