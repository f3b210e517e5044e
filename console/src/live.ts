// Live updates: the account's event stream, resumed from the last sequence seen.
//
// Locally `GET /v1/live/stream` sends Server-Sent Events. `EventSource` cannot send the
// bearer token, so the stream is read with `fetch` and parsed here (the format is four
// line kinds). Where no stream answers (on AWS without the WebSocket endpoint), the
// same events are read by polling `GET /v1/live?after=`. Either way a reconnect resumes
// after the last sequence, so nothing is missed; beyond the retention the server says
// `reload` and the console reloads what it shows.

import { get, token } from "./api";

export interface LiveEvent {
  seq: number;
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

interface LivePage { events: LiveEvent[]; last_seq: number; more: boolean; reload: boolean }

export type Listener = (event: LiveEvent) => void;

/** One connection per console; screens subscribe to it. */
export class Live {
  private listeners = new Set<Listener>();
  private reloads = new Set<() => void>();
  private after: number | null = null;
  private stopped = false;
  private controller: AbortController | null = null;
  private states = new Set<(connected: boolean) => void>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onReload(listener: () => void): () => void {
    this.reloads.add(listener);
    return () => this.reloads.delete(listener);
  }

  onState(listener: (connected: boolean) => void): () => void {
    this.states.add(listener);
    return () => this.states.delete(listener);
  }

  async start(): Promise<void> {
    const head = await get<LivePage>("/v1/live");
    this.after = head.last_seq;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private emit(event: LiveEvent): void {
    if (this.after !== null && event.seq <= this.after) return;
    this.after = event.seq;
    this.listeners.forEach((listener) => listener(event));
  }

  private reload(seq: number): void {
    this.after = seq;
    this.reloads.forEach((listener) => listener());
  }

  private setState(connected: boolean): void {
    this.states.forEach((listener) => listener(connected));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.stream();
        failures = 0;
      } catch {
        this.setState(false);
        failures += 1;
        if (failures > 2) {
          // No stream here: read the same events by polling.
          try {
            await this.poll();
            failures = 0;
          } catch {
            /* retried below */
          }
        }
      }
      if (!this.stopped) await sleep(Math.min(1000 * 2 ** Math.min(failures, 4), 15000));
    }
  }

  private async poll(): Promise<void> {
    for (let i = 0; i < 60 && !this.stopped; i++) {
      const page = await get<LivePage>(`/v1/live?after=${this.after ?? 0}`);
      this.setState(true);
      if (page.reload) this.reload(page.last_seq);
      page.events.forEach((event) => this.emit(event));
      if (!page.reload) this.after = Math.max(this.after ?? 0, page.last_seq);
      if (!page.more) await sleep(2000);
    }
  }

  private async stream(): Promise<void> {
    this.controller = new AbortController();
    const response = await fetch(`/v1/live/stream?after=${this.after ?? 0}`, {
      headers: { authorization: `Bearer ${token() ?? ""}`, accept: "text/event-stream" },
      signal: this.controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`live stream: ${response.status}`);
    this.setState(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let kind = "message";
    let data = "";
    let id = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("live stream ended");
      buffer += value;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data) this.frame(kind, id, data);
          kind = "message";
          data = "";
          id = "";
        } else if (line.startsWith(":")) {
          // keep-alive
        } else {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") kind = text;
          else if (field === "data") data = data ? `${data}\n${text}` : text;
          else if (field === "id") id = text;
        }
      }
    }
  }

  private frame(kind: string, id: string, data: string): void {
    if (kind === "reload") {
      this.reload(Number(id));
      return;
    }
    this.emit(JSON.parse(data) as LiveEvent);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
