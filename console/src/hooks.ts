import { useEffect, useRef, useState } from "preact/hooks";
import type { LiveEvent } from "./live";
import { useCtx } from "./context";

/** What `load` resolves to, loaded again when `deps` change or `reload()` is called. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | undefined, () => void, string] {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    load()
      .then((v) => { if (alive) { setValue(v); setError(""); } })
      .catch((e: Error) => { if (alive) setError(e.message); });
    return () => { alive = false; };
  }, [...deps, tick]);
  return [value, () => setTick((n) => n + 1), error];
}

/** Calls `react` for each live event `wanted` accepts, at most once per 150 ms (a burst
 * of events reloads once), and on a `reload` signal. */
export function useLive(wanted: (e: LiveEvent) => boolean, react: () => void, deps: unknown[]): void {
  const { live } = useCtx();
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    const fire = () => {
      if (timer.current !== undefined) return;
      timer.current = window.setTimeout(() => { timer.current = undefined; react(); }, 150);
    };
    const offEvent = live.subscribe((e) => { if (wanted(e)) fire(); });
    const offReload = live.onReload(fire);
    return () => { offEvent(); offReload(); clearTimeout(timer.current); timer.current = undefined; };
  }, [live, ...deps]);
}
