"""scripts/install.sh into a temporary PREFIX: the library with its SONAME and links,
the header, textmodel.pc and the command-line tool; then bindings/c/classify.c, copied
out of the tree, builds with pkg-config against that PREFIX alone and runs."""

import os
import shutil
import subprocess

from conftest import REPO_ROOT


def header_version():
    import re
    text = (REPO_ROOT / "include" / "textmodel.h").read_text()
    return [re.search(rf"#define TEXTMODEL_VERSION_{n} (\d+)", text).group(1) for n in ("MAJOR", "MINOR", "PATCH")]


def test_install_lays_out_the_library_header_pc_and_cli(installed):
    major, minor, patch = header_version()
    lib = installed / "lib"
    real = lib / f"libtextmodel.so.{major}.{minor}.{patch}"
    assert real.is_file() and not real.is_symlink()
    assert os.readlink(lib / f"libtextmodel.so.{major}") == real.name
    assert os.readlink(lib / "libtextmodel.so") == f"libtextmodel.so.{major}"
    assert (installed / "include" / "textmodel.h").read_bytes() == (REPO_ROOT / "include" / "textmodel.h").read_bytes()
    pc = (lib / "pkgconfig" / "textmodel.pc").read_text()
    assert f"prefix={installed}\n" in pc and f"Version: {major}.{minor}.{patch}\n" in pc
    result = subprocess.run([str(installed / "bin" / "textmodel"), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"textmodel {major}.{minor}.{patch}"


def pkg_config(installed, *args):
    env = dict(os.environ, PKG_CONFIG_PATH=str(installed / "lib" / "pkgconfig"))
    return subprocess.run(["pkg-config", *args], env=env, capture_output=True, text=True, check=True).stdout.split()


def test_classify_builds_out_of_tree_with_pkg_config_and_runs(installed, tmp_path):
    assert pkg_config(installed, "--cflags", "textmodel") == [f"-I{installed}/include"]
    assert pkg_config(installed, "--libs", "textmodel") == [f"-L{installed}/lib", "-ltextmodel"]
    source = tmp_path / "classify.c"
    shutil.copy(REPO_ROOT / "bindings" / "c" / "classify.c", source)
    # classify.c reads its config with json-c itself, hence json-c beside textmodel.
    flags = pkg_config(installed, "--cflags", "--libs", "textmodel", "json-c")
    program = tmp_path / "classify"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-o", str(program), str(source),
                    *flags, f"-Wl,-rpath,{installed}/lib", "-lm"], check=True, cwd=tmp_path)
    needed = subprocess.run(["readelf", "-d", str(program)], capture_output=True, text=True, check=True).stdout
    assert f"Shared library: [libtextmodel.so.{header_version()[0]}]" in needed
    ldd = subprocess.run(["ldd", str(program)], capture_output=True, text=True, check=True).stdout
    assert f"{installed}/lib/libtextmodel.so" in ldd
    data = REPO_ROOT / "data" / "support"
    run = subprocess.run([str(program), "--set", "training.epochs=2", str(REPO_ROOT / "bindings" / "c" / "example_config.json"),
                          str(data / "train.csv"), str(data / "valid.csv"), str(data / "test.csv"),
                          str(tmp_path / "m.tmmodel"), "my parcel never came"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "reloaded model predicts identically" in run.stdout
    assert '"my parcel never came" ->' in run.stdout


def test_make_install_with_destdir_stages_the_same_layout(tmp_path):
    stage = tmp_path / "stage"
    result = subprocess.run(["make", "-s", "-C", str(REPO_ROOT), "install", "PREFIX=/opt/textmodel"],
                            env=dict(os.environ, DESTDIR=str(stage)), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    major = header_version()[0]
    assert (stage / "opt/textmodel/lib" / f"libtextmodel.so.{major}").is_symlink()
    assert (stage / "opt/textmodel/bin/textmodel").is_file()
    # The .pc names the final prefix, not the staging directory.
    assert "prefix=/opt/textmodel\n" in (stage / "opt/textmodel/lib/pkgconfig/textmodel.pc").read_text()
