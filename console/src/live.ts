// Live updates: the account's event stream, resumed from the last sequence seen.
//
// On AWS the events come over API Gateway's WebSocket API: `POST /v1/live/ticket` names
// its URL and gives a one-time ticket to connect with; a ping every five minutes keeps the
// connection from its 10-minute idle limit, and API Gateway's two-hour limit is just a
// reconnect. A frame whose sequence skips ahead, and every reconnect, read the missed
// events through `GET /v1/live?after=` first.
//
// Locally `GET /v1/live/stream` sends Server-Sent Events. `EventSource` cannot send the
// bearer token, so the stream is read with `fetch` and parsed here (the format is four
// line kinds). Where no stream answers (on AWS without the WebSocket endpoint), the
// same events are read by polling `GET /v1/live?after=`. Either way a reconnect resumes
// after the last sequence, so nothing is missed; beyond the retention the server says
// `reload` and the console reloads what it shows.

import { get, post, token } from "./api";

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
        const ticket = await post<{ ticket: string; url: string | null }>("/v1/live/ticket");
        if (ticket.url) await this.socket(`${ticket.url}?ticket=${encodeURIComponent(ticket.ticket)}`);
        else await this.stream();
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

  /** Reads what was missed after `after` (a gap, or the time a reconnect took). */
  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await get<LivePage>(`/v1/live?after=${this.after ?? 0}`);
      if (page.reload) this.reload(page.last_seq);
      page.events.forEach((event) => this.emit(event));
      if (!page.reload) this.after = Math.max(this.after ?? 0, page.last_seq);
      if (!page.more) return;
    }
  }

  private socket(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      let pinger: number | undefined;
      let chain = Promise.resolve();
      const stop = () => ws.close();
      this.controller = new AbortController();
      this.controller.signal.addEventListener("abort", stop);
      ws.onopen = () => {
        this.setState(true);
        chain = chain.then(() => this.catchUp());
        pinger = window.setInterval(() => ws.send(JSON.stringify({ action: "ping" })), 5 * 60 * 1000);
      };
      ws.onmessage = (message) => {
        const event = JSON.parse(String(message.data)) as LiveEvent;
        // In order: a frame past a gap waits for the gap's events to be read.
        chain = chain.then(async () => {
          if (this.after !== null && event.seq > this.after + 1) await this.catchUp();
          this.emit(event);
        }).catch(() => ws.close());
      };
      ws.onclose = () => {
        clearInterval(pinger);
        this.setState(false);
        // Closed after it was open (the 2 h limit, a network change): reconnect at once.
        if (pinger !== undefined) resolve();
        else reject(new Error("live socket refused"));
      };
    });
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
