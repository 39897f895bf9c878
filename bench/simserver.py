"""The provider simulator in a process of its own, loaded with bulk documents.

`python -m bench.simserver PORT SIREN:COUNT[:SIRET,SIRET...] ...` prints "ready" once
serving. Each company gets COUNT documents on both platforms.
"""

from __future__ import annotations

import sys
import threading

from simulator import Simulator, serve_in_thread

from .dataset import TODAY


def main() -> None:
    port = int(sys.argv[1])
    sim = Simulator(today=TODAY, seed=None)
    for spec in sys.argv[2:]:
        siren, count, *rest = spec.split(":")
        sirets = tuple(rest[0].split(",")) if rest and rest[0] else ()
        for provider in ("attestation_legale", "actradis"):
            sim.add_company(provider, siren, "Entreprise du banc d'essai")
            sim.seed_bulk(provider, siren, int(count), sirets=sirets)
    serve_in_thread(sim, port=port)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
