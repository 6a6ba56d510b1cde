"""`check` fails when a committed deck has the right content but not the bytes a clean build writes."""

import zipfile

from conftest import run


def test_a_deck_with_other_bytes_fails_check_until_rebuilt(project):
    assert run(project).exit_code == 0
    apkg = project / "decks/sample.apkg"
    with zipfile.ZipFile(apkg) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(apkg, "w", zipfile.ZIP_DEFLATED) as zf:  # the same content, as another toolchain might write it
        for info, data in entries:
            zf.writestr(zipfile.ZipInfo(info.filename, date_time=(2001, 2, 3, 4, 5, 6)), data)
    result = run(project, "check", "--no-cache")
    assert result.exit_code == 1
    assert result.stderr == (
        "decks/sample.apkg:1:1: does not match its sources (same content, but not the bytes a clean build writes "
        "(another SQLite or Python than the pinned toolchain's?)); run 'python build.py' and commit the result\n"
    )
    assert run(project, "build", "--no-cache").stdout.startswith("decks/sample.apkg: written")
    assert run(project, "check", "--no-cache").stderr == "ok\n"
