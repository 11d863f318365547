"""The engine's folders form layers, and every reference points down.

Sources/TextModel/<folder>/ files may use types and functions declared in their own
folder or in a folder below it in LAYERS (bottom first), never above: a newcomer can
read the tree bottom up, and no two folders depend on each other. docs/architecture.md
explains the order. The check reads the Swift source: a top-level declaration (type,
typealias, protocol or function at column 0) belongs to its file's folder, and a file
uses every such name that appears in its code (comments and strings removed), unless
it is a member (`Config.Model`) or the file declares a nested type of that name itself.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENGINE = ROOT / "Sources" / "TextModel"

LAYERS = ["Support", "Tensors", "Layers", "Losses", "Encoders", "Config", "Network", "Text", "Data",
          "Evaluation", "Inference", "Attribution", "Serialization", "Optimizers", "Training", "API"]

DECLARATION = re.compile(r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:public |internal |package |fileprivate |private )?(?:final )?"
                         r"(?:struct|enum|class|protocol|typealias|actor|func)\s+(\w+)", re.M)


def code(path):
    text = path.read_text()
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)


def declarations():
    owner = {}
    for path in ENGINE.rglob("*.swift"):
        for name in DECLARATION.findall(path.read_text()):
            owner.setdefault(name, path.parent.name)
    return owner


def test_every_folder_is_a_layer():
    folders = sorted(p.name for p in ENGINE.iterdir() if p.is_dir())
    assert folders == sorted(LAYERS)


def test_every_reference_points_down():
    owner = declarations()
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for path in sorted(ENGINE.rglob("*.swift")):
        folder = path.parent.name
        text = code(path)
        nested = set(re.findall(r"^\s+(?:public |internal |private |fileprivate )?(?:struct|enum|class|typealias)\s+(\w+)", text, re.M))
        for name in sorted(set(re.findall(r"(?<![.\w])[A-Za-z_]\w*\b", text)) - nested):
            target = owner.get(name)
            if target and rank[target] > rank[folder]:
                upward.append(f"{path.relative_to(ENGINE)} uses {name} ({target}/)")
    assert not upward, "references pointing up:\n" + "\n".join(upward)


def test_the_check_sees_a_reference_pointing_up(tmp_path):
    """The scanner is not blind: a Support file naming a Training type is reported."""
    owner = declarations()
    assert owner["Trainer"] == "Training" and owner["Buffer"] == "Tensors" and owner["Model"] == "API"
    fake = "struct Probe { let t: Trainer? = nil }  // Trainer in a comment is ignored"
    names = set(re.findall(r"(?<![.\w])[A-Za-z_]\w*\b", re.sub(r"//[^\n]*", "", fake)))
    assert "Trainer" in names
