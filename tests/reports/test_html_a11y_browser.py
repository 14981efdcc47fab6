"""report.html as people who zoom, tab or listen get it (review181), in headless Chromium: the narrow view's focus,
reflow at 320 px, the sorted table's caption and the way back, the regions' names and tab stops, the printed headings.
"""

from __future__ import annotations

import json

import pytest
from chromium_cdp import Browser, open_report
from report_builders import load_report_json
from test_html_browser import DESKTOP, PHONE, overflowing

pytestmark = pytest.mark.browser

# A 1280 px window zoomed to 200 %: the tables are cards below 48em (768 CSS px).
ZOOMED = (640, 900)

# Where the focus is after a Tab, and whether a person can see it there: the element on top at the middle of its
# first box is the element (or inside it), so it is not clipped away, covered, or a 1 px speck.
FOCUSED = """(() => {
  const a = document.activeElement;
  if (!a || a === document.body) return null;
  a.scrollIntoView({ block: 'center', inline: 'nearest' });
  const box = a.getClientRects()[0];
  if (!box) return [a.tagName, a.textContent.trim().slice(0, 40), false, !!a.closest('thead')];
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const seen = box.width >= 4 && box.height >= 4 && !!hit && (hit === a || a.contains(hit));
  return [a.tagName, a.textContent.trim().slice(0, 40), seen && getComputedStyle(a).outlineStyle === 'solid',
    !!a.closest('thead')];
})()"""


def tab_stops(browser: Browser, most: int = 400) -> list[tuple[str, str, bool, bool]]:
    """Every stop of the page's Tab order from the top, once round: (tag, text, seen with its ring, in a header row)."""
    stops: list[tuple[str, str, bool, bool]] = []
    for _ in range(most):
        browser.press_tab()
        found = browser.js(FOCUSED)
        if found is None or (stops and found[1] == stops[0][1] and found[0] == stops[0][0]):
            break
        stops.append(tuple(found))
    return stops


@pytest.mark.parametrize(("size", "mobile"), [(ZOOMED, False), ((320, 640), True)])
def test_every_tab_stop_of_the_card_view_is_seen_and_the_tables_sort_there(
    browser, make_sync_builder, tmp_path, size, mobile
):
    """review181 F1: zoomed to 200 % (or on a phone) the tables are cards and their header rows were clipped to a
    1 px box, whose ten sort buttons still took the focus, out of sight and with no ring. The header row of a sortable
    table is a visible "Sort by" row there: each stop is seen, with its ring, and the buttons sort."""
    make_sync_builder().write(tmp_path)
    open_report(browser, tmp_path, size, mobile=mobile)
    stops = tab_stops(browser)
    assert len(stops) > 20, stops
    assert [stop for stop in stops if not stop[2]] == []
    sorting = [text for tag, text, _seen, in_head in stops if in_head and tag == "BUTTON"]
    records, issues = ["Where", "Trainee", "Action", "Outcome", "HTTP"], ["Where", "Trainee", "Field and value", "Rule"]
    assert sorting == [*records, *issues, "Message and suggested fix"]
    browser.js("document.querySelectorAll('#record-table thead button')[2].click()")  # Action, as a pointer sorts
    assert browser.js("document.querySelectorAll('#record-table thead th')[2].getAttribute('aria-sort')") == (
        "ascending"
    )
    assert overflowing(browser) == []


def test_an_xml_inputs_layout_line_wraps_at_320_px(browser, validation_builder, tmp_path):
    """review181 F2: "1 in the C23053 (or later) layout" was kept on one line beside its card label, and made a
    320 px screen (400 % zoom) scroll sideways."""
    validation_builder.write(tmp_path)
    assert any("C23053" in info.get("vintages", {}) for info in load_report_json(tmp_path)["inputs"])
    open_report(browser, tmp_path, (320, 640), mobile=True)
    assert browser.js("innerWidth") == 320
    assert overflowing(browser) == []


ISSUE_ORDER = "[...document.querySelectorAll('#issue-table tbody tr')].map(tr => tr.cells[0].dataset.sortValue)"
CAPTION = "document.querySelector('#issue-table caption').textContent"
RESTORE = "document.querySelector('#issues [data-restore-order]')"
# Whether an element is out of sight and out of the Tab order and the accessibility tree (hidden, or its room kept).
UNSEEN = "(e => e.hidden || getComputedStyle(e).visibility === 'hidden')({})"


def test_the_caption_says_the_order_shown_and_the_page_order_comes_back(browser, validation_builder, tmp_path):
    """review181 F3: after a sort the Issues table's caption, which names the table to a screen reader, still said
    "the errors first, then the warnings, each in file order", and no control gave that order back (Where sorts in
    file order, errors and warnings together). The caption says the order shown; "Original order" restores it."""
    validation_builder.write(tmp_path)
    open_report(browser, tmp_path, DESKTOP)
    page_order = browser.js(ISSUE_ORDER)
    assert browser.js(CAPTION).endswith(": the errors first, then the warnings, each in file order")
    assert browser.js(UNSEEN.format(RESTORE))
    browser.js("document.querySelectorAll('#issue-table thead button')[1].click()")  # Trainee
    assert browser.js(CAPTION).endswith(": sorted by Trainee, A to Z")
    browser.js("document.querySelectorAll('#issue-table thead button')[1].click()")
    assert browser.js(CAPTION).endswith(": sorted by Trainee, Z to A")
    browser.js("document.querySelectorAll('#issue-table thead button')[3].click()")  # Rule
    rule = ": sorted by Rule, the errors first, then the warnings, each by rule from A to Z"
    assert browser.js(CAPTION).endswith(rule)
    browser.js("document.querySelectorAll('#issue-table thead button')[0].click()")  # Where
    assert browser.js(CAPTION).endswith(": sorted by Where, in file order, errors and warnings together")
    assert browser.js(ISSUE_ORDER) != page_order  # file order is not the page's order
    assert not browser.js(UNSEEN.format(RESTORE))
    browser.js(f"{RESTORE}.click()")
    assert browser.js(ISSUE_ORDER) == page_order
    assert browser.js(CAPTION).endswith(": the errors first, then the warnings, each in file order")
    assert browser.js("[...document.querySelectorAll('#issue-table th[aria-sort]')].length") == 0
    assert browser.js(UNSEEN.format(RESTORE))
    assert browser.js("document.activeElement.textContent") == "Where"  # not lost with the button that went


def test_the_records_table_returns_to_where_order(browser, make_sync_builder, tmp_path):
    """The Records table's own order is file order (Where, ascending): "Original order" puts aria-sort back there."""
    make_sync_builder().write(tmp_path)
    open_report(browser, tmp_path, DESKTOP)
    caption = "document.querySelector('#record-table caption').textContent"
    assert browser.js(caption).endswith(", in file order")
    browser.js("document.querySelectorAll('#record-table thead button')[3].click()")  # Outcome
    assert browser.js(caption).endswith(", sorted by Outcome, A to Z")
    browser.js("document.querySelector('#sync [data-restore-order]').click()")
    assert browser.js(caption).endswith(", in file order")
    sorts = "[...document.querySelectorAll('#record-table thead th')].map(th => th.getAttribute('aria-sort'))"
    assert browser.js(sorts) == ["ascending", None, None, None, None, None, None]


REGIONS = """[...document.querySelectorAll('.table-wrap')].map(w =>
  [w.querySelector('table').id, w.getAttribute('role'), w.getAttribute('aria-label'), w.getAttribute('tabindex')])"""


def ax_names(browser: Browser, role: str) -> list[str]:
    nodes = browser.call("Accessibility.getFullAXTree")["nodes"]
    return [n.get("name", {}).get("value", "") for n in nodes if n.get("role", {}).get("value") == role]


def test_regions_have_their_own_names_and_only_a_scrolling_table_is_a_tab_stop(browser, make_sync_builder, tmp_path):
    """review181 F4: each table's scroller was a region named by the heading that names its section too ("Issues"
    twice in a landmarks list), and a tab stop in the card view and on a wide screen, where it does not scroll. A
    scroller is a region, named for its table, and a tab stop only while its table is wider than it."""
    make_sync_builder().write(tmp_path)
    open_report(browser, tmp_path, (800, 900))  # the Issues and Records tables (56rem) scroll in their frames
    regions = {table: (role, label, tabindex) for table, role, label, tabindex in browser.js(REGIONS)}
    assert regions["issue-table"] == ("region", "Issues table", "0")
    assert regions["record-table"] == ("region", "Records table", "0")
    named = ax_names(browser, "region")
    assert "Issues table" in named and len(named) == len(set(named)), named
    for size, mobile in ((DESKTOP, False), (ZOOMED, False), (PHONE, True)):
        open_report(browser, tmp_path, size, mobile=mobile)
        assert {(role, label, tabindex) for _table, role, label, tabindex in browser.js(REGIONS)} == {
            (None, None, None)
        }, size
        named = ax_names(browser, "region")
        assert len(named) == len(set(named)), named
    # Back to a width where a table scrolls: it is a region again.
    browser.viewport(800, 900)
    browser.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert ["issue-table", "region", "Issues table", "0"] in browser.js(REGIONS)


def test_a_cards_labels_are_not_read_with_its_cells(browser, make_sync_builder, tmp_path):
    """review181 F4: in the card view each cell's label ("Action") is CSS text, which Chromium put into the cell's
    name ("Action invalid") under the column heading "Action": read twice. The label is not in the name."""
    make_sync_builder().write(tmp_path)
    open_report(browser, tmp_path, PHONE, mobile=True)
    labels = set(browser.js("[...document.querySelectorAll('[data-label]')].map(c => c.dataset.label)"))
    assert {"Where", "Action", "Outcome", "Errors"} <= labels
    cells = [name for name in ax_names(browser, "cell") + ax_names(browser, "rowheader") if name]
    assert len(cells) > 50
    assert [name for name in cells if any(name.startswith(label + " ") for label in labels)] == []


# Each heading's longest word against the room inside its cell, printed: (heading, word px, room px).
HEADING_ROOM = """[...document.querySelectorAll('#record-table thead th, #issue-table thead th')].map(th => {
  const style = getComputedStyle(th), measure = document.createElement('canvas').getContext('2d');
  measure.font = style.font;
  const text = th.dataset.heading || th.textContent.trim();
  const word = Math.max(...text.split(/\\s+/).map(w => measure.measureText(w).width));
  return [text, word, th.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)]; })"""


def test_printed_headings_fit_their_columns(browser, make_sync_builder, tmp_path):
    """review181 F7: printed on A4, the Records table's bold "HTTP" (30 px) had 23 px inside its 5 % column and ran
    into "Errors and warnings" ("HTTPErrors and")."""
    make_sync_builder().write(tmp_path)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))  # A4 portrait's printable width at 96 dpi
        room = browser.js(HEADING_ROOM)
        assert "HTTP" in json.dumps(room)
        assert [(text, round(word), round(space)) for text, word, space in room if word > space] == []
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")


# The middle of the Issues table's sort button `index`, the page scrolled to put the table's filters at its top (a
# person sorting looks at both), and the viewport's height.
SORT_BUTTON_AT = """(index => {{
  const form = document.querySelector('form[data-table=issue-table]');
  window.scrollTo(0, form.getBoundingClientRect().top + window.scrollY - 8);
  const box = document.querySelectorAll('#issue-table thead button')[index].getBoundingClientRect();
  return [box.left + box.width / 2, box.top + box.height / 2, innerHeight];
}})({})"""
ISSUE_SORTS = "[...document.querySelectorAll('#issue-table thead th')].map(th => th.getAttribute('aria-sort'))"


def click_at(browser: Browser, x: float, y: float) -> None:
    """A mouse click (a tap) at a point of the viewport, on whatever is there then."""
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


@pytest.mark.parametrize(("size", "mobile"), [((1280, 900), False), ((320, 900), True)], ids=["1280", "320"])
def test_a_second_click_on_a_heading_reverses_its_sort(browser, validation_builder, tmp_path, size, mobile):
    """review186 F1: "Original order" appeared with the first sort and pushed the table down (17 px at 1280 px, 44 in
    the card view), so a second click on the same heading, to sort Z to A, hit the header's padding (nothing) or, on
    a phone, the heading that had moved there: tapping Rule twice sorted by Trainee. Nothing moves: its room is kept."""
    validation_builder.write(tmp_path)
    open_report(browser, tmp_path, size, mobile=mobile)
    buttons = browser.js("document.querySelectorAll('#issue-table thead button').length")
    assert buttons >= 4, buttons
    for index in range(buttons):
        open_report(browser, tmp_path, size, mobile=mobile)  # the page's order: "Original order" not yet shown
        x, y, height = browser.js(SORT_BUTTON_AT.format(index))
        assert 0 < y < height, (index, y, height)
        click_at(browser, x, y)
        assert not browser.js(UNSEEN.format(RESTORE))
        moved = browser.js(SORT_BUTTON_AT.format(index))[1] - y  # (its ↕ is now ▲, a little narrower)
        assert abs(moved) < 1, (index, moved)
        click_at(browser, x, y)
        sorts = browser.js(ISSUE_SORTS)
        assert sorts[index] == "descending" and sorts.count(None) == len(sorts) - 1, (index, sorts)
