"""The reports a benchmark collected: `inject ... --json` outputs written one after another."""
import json


def read(path):
    """Every JSON document in the file at `path`, in order."""
    text = open(path).read()
    decoder, position, reports = json.JSONDecoder(), 0, []
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        report, position = decoder.raw_decode(text, position)
        reports.append(report)
    return reports
