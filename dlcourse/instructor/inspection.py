"""Inspection of a submission before it is graded: what is wrong with it, and a repaired copy to grade.

Invalid JSON, missing or renamed notebooks, deleted, retyped, duplicated and unknown cells are each
reported with a reason. What can be repaired in the copy handed to the grader is repaired: duplicated
grade ids keep their last copy, duplicated cell ids are renumbered, and ``restore_from_source`` takes every
graded cell's type and metadata and every test, locked and rubric cell's source from the instructor's
notebook, putting deleted ones back. A notebook that
cannot be read scores 0 and the others are still graded. The submitted files are only ever read.
"""

import copy
import json
import uuid
from pathlib import Path

import nbformat

from dlcourse.instructor.config import CODE_STUB, TEXT_STUB
from dlcourse.instructor.markers import cell_kind, grade_id, replace_solutions


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


def student_copy(source_cell):
    """A source cell as the student's copy has it (its solution region replaced by the stub)."""
    cell = nbformat.from_dict(copy.deepcopy(dict(source_cell)))
    stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
    cell.source = replace_solutions(cell.source, stub)
    cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs", [])
    if cell.cell_type == "code":
        cell.execution_count = None
    return cell


def _restored(cell, source_cell):
    """The submitted cell with what the student may not change taken from the source cell."""
    kind = cell_kind(source_cell)
    if kind in ("test", "locked", "rubric"):
        restored = nbformat.from_dict(copy.deepcopy(dict(source_cell)))
    else:  # solution or answer: the student's text, the source's type and grading metadata
        restored = nbformat.from_dict(copy.deepcopy(dict(source_cell)))
        restored.source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
    if restored.cell_type == "code":
        restored.outputs, restored.execution_count = [], None
    restored["id"] = source_cell.get("id") or cell.get("id")
    return restored


def restore_from_source(notebook, source):
    """The notebook to grade: the submitted one with every graded cell's type and metadata, and every test,
    locked and rubric cell's source, taken from the instructor's notebook; deleted graded cells of any kind
    put back at their place (a deleted answer as its stub); cells with unknown grade ids and ordinary cells
    kept as ordinary cells (grading metadata removed). The submitted notebook is not changed.

    Inputs:
    - notebook: a submitted notebook (read_submitted_notebook, repair_duplicates); source: its source notebook.
    Returns:
    - a new NotebookNode with the source's notebook metadata (kernelspec).
    """
    by_id = {grade_id(cell): cell for cell in source.cells if grade_id(cell)}
    order = [grade_id(cell) for cell in source.cells if grade_id(cell)]
    cells, present = [], set()
    for cell in notebook.cells:
        gid = grade_id(cell)
        if gid in by_id and gid not in present:
            cells.append(_restored(cell, by_id[gid]))
            present.add(gid)
        else:
            plain = nbformat.from_dict(copy.deepcopy(dict(cell)))
            plain.metadata.pop("nbgrader", None)
            plain.metadata.pop("dlcourse", None)
            cells.append(plain)
    for position, gid in enumerate(order):
        if gid in present:
            continue
        earlier = [g for g in order[:position] if g in present]
        after = max((i for i, c in enumerate(cells) if grade_id(c) in earlier), default=-1)
        missing = by_id[gid]
        cells.insert(after + 1, student_copy(missing) if cell_kind(missing) in ("solution", "answer") else
                     nbformat.from_dict(copy.deepcopy(dict(missing))))
        present.add(gid)
    restored = nbformat.v4.new_notebook(metadata=copy.deepcopy(dict(source.metadata)))
    restored.cells = cells
    restored.nbformat_minor = max(int(source.get("nbformat_minor", 5)), 5)
    return restored
