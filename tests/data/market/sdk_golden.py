"""Feed hand-built HSM frames to the official Fyers SDK parser and record its callbacks.

For each case of IN.json (a JSON array of
  {"name": str, "lite": bool, "topics": {"sf|nse_cm|3045": "NSE:SBIN-EQ", ...}, "frames": ["<hex>", ...]})
this builds a fresh fyers_apiv3 FyersDataSocket (never connected: nothing touches the network), registers
the topics the way subscribe() on channel 11 would, passes every frame to the SDK's private parser
`_FyersDataSocket__response_msg`, and writes one line per case to OUT.jsonl:
  {"name": ..., "events": [{"on": "message"|"error"|"connect"|"close"|"exception", "data": ...}, ...]}
in callback order. Dicts and strings are kept as they are; anything else (exception objects) becomes its repr.

It was run once with fyers-apiv3==3.2.0 (in a venv outside the repo) to produce the committed golden file:
  /work/fyers-sdk-venv/bin/python tests/data/market/sdk_golden.py IN.json OUT.jsonl
See shared/fyers/MARKET_DATA.md §5-§6 for the protocol and for how this harness drives the SDK.
"""
import base64
import json
import sys
import tempfile

from fyers_apiv3.FyersWebsocket.data_ws import FyersDataSocket

CHANNEL = 11  # the SDK's default channel; subscribe() files topics under it


def b64url(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# Unsigned JWT (the SDK never checks signatures) with a far-future exp and an hsm_key claim.
TOKEN = "APPID-100:" + ".".join(
    [b64url({"alg": "none", "typ": "JWT"}), b64url({"exp": 4102444800, "hsm_key": "deadbeefcafe0123"}), "sig"]
)


def plain(x):
    """Callback payload -> JSON value: dicts/strings/None as they are (copied now), anything else as repr."""
    if x is None or isinstance(x, (dict, str)):
        return json.loads(json.dumps(x))
    return repr(x)


def run_case(case, log_dir):
    events = []
    rec = lambda on: (lambda data=None: events.append({"on": on, "data": plain(data)}))

    # FyersDataSocket is a process-wide singleton (__new__ returns cls._instance). Drop the old
    # instance so every case starts from a brand-new object, not one re-initialised in place.
    FyersDataSocket._instance = None
    ws = FyersDataSocket(
        access_token=TOKEN, log_path=log_dir, litemode=case["lite"], reconnect=False,
        on_message=rec("message"), on_error=rec("error"), on_connect=rec("connect"), on_close=rec("close"),
    )
    assert not (ws.symbol_token or ws.resp or ws.scrips_sym or ws.index_sym or ws.dp_sym
                or ws.ack_count or ws.update_count or any(ws.scrips_per_channel.values())), "state leaked"
    assert ws.access_token_to_hsmtoken(), "minted token rejected"  # local JWT decode only, no I/O

    # What subscribe(symbols, channel=11) leaves behind after its REST lookup (data_ws.py subscribe,
    # __channel_resume_pause, __subscription_msg). The parser reads only symbol_token; the rest keeps
    # the unsubscribe-ack path consistent.
    topics = dict(case["topics"])
    ws.channel_num = CHANNEL
    ws.active_channel = CHANNEL
    ws.running_channels.add(CHANNEL)
    ws.symbol_token.update(topics)
    ws.scrips_count[CHANNEL] = list(topics)
    ws.scrips_per_channel[CHANNEL] += list(topics)

    parse = ws._FyersDataSocket__response_msg  # (self, data: bytearray); catches and logs its own errors
    for frame in case["frames"]:
        try:
            parse(bytearray.fromhex(frame))
        except Exception as e:  # noqa: BLE001 - recorded, never fatal
            events.append({"on": "exception", "data": repr(e)})
    return {"name": case["name"], "events": events}


def main(in_path, out_path):
    with open(in_path) as f:
        cases = json.load(f)
    with tempfile.TemporaryDirectory() as log_dir, open(out_path, "w") as out:
        for case in cases:
            out.write(json.dumps(run_case(case, log_dir), sort_keys=False) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sdk_golden.py IN.json OUT.jsonl")
    main(sys.argv[1], sys.argv[2])
