"""WholeTable (tui/widgets/whole_table.py): a paint that comes before the table has measured its new cells — the
order a busy machine can produce — must not leave those cells cut to the columns' old widths; and the app's
tables are WholeTables."""
from __future__ import annotations

from textual.app import App
from textual.geometry import Region

from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.compare import CompareScreen
from teach_sgd.tui.widgets.lesson_results import RunResultsTable
from teach_sgd.tui.widgets.whole_table import WholeTable
from tui_helpers import sync


class OneTable(App):
    CSS = "#t { height: 1fr; }"  # as the Compare screen's results: its rows are painted from the start

    def compose(self):
        yield WholeTable(id="t")


def shown(table) -> list[str]:
    return [strip.text.rstrip() for strip in table.render_lines(Region(0, 0, table.size.width, 4))]


def fill(table, value: str) -> None:
    table.clear(columns=True)
    table.add_column("", key="metric")
    table.add_column("A", key="A")
    for row in ("updates/s", "loss"):
        table.add_row(row, value, key=row)


@sync
async def test_cells_painted_before_they_are_measured_are_shown_whole_once_measured():
    async with OneTable().run_test(size=(60, 10)) as pilot:
        table = pilot.app.query_one(WholeTable)
        await pilot.pause(0.1)           # laid out: 60 × 10 cells
        fill(table, "12,345")            # filled, and painted before the table's next idle measures the cells:
        early = shown(table)             # at the headers' widths ("" and "A")
        await pilot.pause()
        await pilot.pause(0.1)
        late = shown(table)
    assert early[1].strip() and "12,345" not in early[1]  # the order of events this test is about did happen
    # Textual's DataTable would keep the strips it cached then: ["1"] for "12,345"
    assert [line.split() for line in late[1:3]] == [["updates/s", "12,345"], ["loss", "12,345"]], late


@sync
async def test_the_apps_tables_are_whole_tables(tmp_path):
    assert issubclass(RunResultsTable, WholeTable)  # the lesson experiment's runs
    app = TeachSGDApp(lessons=[], export_dir=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        assert isinstance(app.screen, CompareScreen) and isinstance(app.screen.table, WholeTable)
