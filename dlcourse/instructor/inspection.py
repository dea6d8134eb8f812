"""Inspection of a submission before it is graded: what is wrong with it, and a repaired copy to grade.

Invalid JSON, missing or renamed notebooks, deleted, retyped, duplicated and unknown cells are each
reported with a reason. What can be repaired in the copy handed to the grader is repaired (duplicated
grade ids keep their last copy, duplicated cell ids are renumbered); the rest of the repair (deleted and
retyped cells) is restoring cells from the source, done when the submission is graded. A notebook that
cannot be read scores 0 and the others are still graded. The submitted files are only ever read.
"""

import json
import uuid
from pathlib import Path

import nbformat

from dlcourse.instructor.markers import cell_kind, grade_id


def graded_cells(notebook):
    """[(grade_id, cell_type, kind)] of the cells of a notebook that carry a grade id, in order."""
    return [(grade_id(cell), cell.get("cell_type"), cell_kind(cell)) for cell in notebook.get("cells", [])
            if grade_id(cell)]


def read_submitted_notebook(path):
    """Read one submitted notebook file.

    Returns:
    - (notebook, None) when it is a readable nbformat 4 notebook (list sources joined), else (None, reason).
    """
    try:
        raw = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not valid JSON ({exc}), scored 0"
    try:
        if not isinstance(raw, dict) or raw.get("nbformat") != 4 or not isinstance(raw.get("cells"), list):
            raise ValueError("not an nbformat 4 notebook")
        notebook = nbformat.from_dict(raw)
        for cell in notebook.cells:
            if "source" not in cell or "cell_type" not in cell:
                raise ValueError("a cell without source or cell_type")
            if isinstance(cell.source, list):
                cell.source = "".join(cell.source)
            if not isinstance(cell.get("metadata"), dict):
                cell["metadata"] = nbformat.NotebookNode()
    except Exception as exc:  # noqa: BLE001 - any unreadable notebook is reported, not fatal
        return None, f"not a readable notebook ({exc}), scored 0"
    return notebook, None


def repair_duplicates(notebook):
    """Keep the last copy of each duplicated grade id (earlier copies become plain cells, as nbgrader's
    DeduplicateIds would, without tripping over their emptied metadata) and renumber duplicated cell ids
    (nbformat refuses them). Changes ``notebook`` in place."""
    last = {}
    for index, cell in enumerate(notebook.cells):
        if grade_id(cell):
            last[grade_id(cell)] = index
    for index, cell in enumerate(notebook.cells):
        if grade_id(cell) and last[grade_id(cell)] != index:
            del cell.metadata["nbgrader"]
    seen = set()
    for index, cell in enumerate(notebook.cells):
        cell_id = cell.get("id")
        if cell_id is None or cell_id in seen:
            cell["id"] = f"dup-{index}-{uuid.uuid4().hex[:8]}" if cell_id is not None else f"cell-{index}"
        seen.add(cell["id"])
    notebook.nbformat_minor = max(int(notebook.get("nbformat_minor", 5)), 5)


def compare_cells(name, notebook, source):
    """The problems of a submitted notebook's graded cells against its source notebook (one message each)."""
    problems = []
    wanted = {gid: (cell_type, kind) for gid, cell_type, kind in graded_cells(source)}
    got = graded_cells(notebook)
    ids = [gid for gid, _, _ in got]
    duplicated = sorted({gid for gid in ids if ids.count(gid) > 1})
    if duplicated:
        problems.append(f"{name}: duplicated cells {', '.join(duplicated)} (only the last copy is graded)")
    cell_ids = [cell.get("id") for cell in notebook.cells if cell.get("id")]
    duplicated_ids = sorted({i for i in cell_ids if cell_ids.count(i) > 1} - set(duplicated))
    if duplicated_ids:
        problems.append(f"{name}: duplicated cell ids {', '.join(duplicated_ids)} (renumbered)")
    deleted = [gid for gid in wanted if gid not in ids and wanted[gid][1] != "rubric"]
    tests = [gid for gid in deleted if wanted[gid][1] == "test"]
    others = [gid for gid in deleted if wanted[gid][1] != "test"]
    if tests:
        problems.append(f"{name}: deleted test cells {', '.join(tests)} (restored from the source and run)")
    if others:
        problems.append(f"{name}: deleted cells {', '.join(others)}")
    retyped = sorted({f"{gid} ({wanted[gid][0]} -> {cell_type})" for gid, cell_type, _ in got
                      if gid in wanted and wanted[gid][0] != cell_type})
    if retyped:
        problems.append(f"{name}: cells of a changed type {', '.join(retyped)} (type restored)")
    unknown = sorted({gid for gid in ids if gid not in wanted})
    if unknown:
        problems.append(f"{name}: cells with unknown grade ids {', '.join(unknown)} (ignored)")
    return problems


def inspect_submission(folder, source_folder):
    """Check a submitted assignment folder against the source notebooks, and prepare what is graded.

    Inputs:
    - folder: the submitted <student>/<assignment>/ folder (only read).
    - source_folder: source/<assignment>/.
    Returns:
    - (notebooks, problems): notebooks maps each gradable notebook file name to the (repaired)
      NotebookNode to grade; problems is a list of messages, one per defect found.
    """
    folder, source_folder = Path(folder), Path(source_folder)
    expected = sorted(path.name for path in source_folder.glob("*.ipynb"))
    present = sorted(path.name for path in folder.glob("*.ipynb")) if folder.is_dir() else []
    unexpected = [name for name in present if name not in expected]
    notebooks, problems = {}, []
    for name in expected:
        if not (folder / name).is_file():
            hint = f"; found instead: {', '.join(unexpected)} (renamed?)" if unexpected else ""
            problems.append(f"{name}: missing notebook, scored 0{hint}")
            continue
        notebook, reason = read_submitted_notebook(folder / name)
        if notebook is None:
            problems.append(f"{name}: {reason}")
            continue
        problems += compare_cells(name, notebook, nbformat.read(source_folder / name, as_version=4))
        repair_duplicates(notebook)
        notebooks[name] = notebook
    problems += [f"{name}: unexpected notebook, not graded" for name in unexpected]
    return notebooks, problems
