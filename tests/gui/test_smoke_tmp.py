from tests.gui.conftest import run, until, settle

def test_window_shows(make_gui, qtbot):
    g = make_gui(seed=3)
    g.window.show()
    qtbot.waitExposed(g.window)
    assert g.window.model.rowCount() == 3
    async def go():
        task = g.window.copy_selected()
        assert await task
        await settle()
    run(g.loop, go())
    assert g.clipboard.holds_secret()
