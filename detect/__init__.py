"""detect: screen official regional statistics for signs of falsification and reckless borrowing.

Quick start::

    import detect
    result = detect.run("data/sample/panel.csv")
    result.regions.head()
"""

__version__ = "0.1.0"


def __getattr__(name):  # lazy: keep `import detect` light for the CLI's --version
    if name in ("run", "screen", "write_run"):
        from detect import pipeline

        return getattr(pipeline, name)
    if name == "load":
        from detect.data import load

        return load
    if name == "Panel":
        from detect.data import Panel

        return Panel
    if name == "load_config":
        from detect.config import load_config

        return load_config
    raise AttributeError(f"module 'detect' has no attribute {name!r}")


__all__ = ["__version__", "run", "screen", "write_run", "load", "Panel", "load_config"]
