import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { groupEnds } from '../test/support/ipc-groups.js';

/**
 * A live IPC stream: the bytes of a stream fixture sent one record batch at a time, as a server that
 * produces batches as it goes would send them (chunked, no Content-Length). Each batch waits for the
 * client to release it (`/live-next/ID`), or for `pause` milliseconds; `/live-log/ID` says when each
 * batch was handed to the socket.
 */

/** What was sent on one live stream, and what it waits for. */
interface LiveStream {
  /** When the request came (`performance.timeOrigin + now`). */
  requested: number;
  /** When each group was handed to the socket (`performance.timeOrigin + now`), in order. */
  sent: number[];
  /** Groups the client released so far (the first `first` need none). */
  released: number;
  /** Groups in the stream: the schema, then one a record batch (dictionaries go with the batch after them). */
  groups: number;
  wake: (() => void) | null;
}

const streams = new Map<string, LiveStream>();

const now = () => performance.timeOrigin + performance.now();

/** Files read and split once, so that a stream starts at once however large it is. */
const files = new Map<string, { bytes: Uint8Array; ends: number[] }>();

function readStream(path: string): { bytes: Uint8Array; ends: number[] } {
  let file = files.get(path);
  if (!file) {
    const bytes = new Uint8Array(readFileSync(path));
    file = { bytes, ends: groupEnds(bytes) };
    files.set(path, file);
  }
  return file;
}

/**
 * Serves `path` (an IPC stream) live: `first` groups at once (default 2: the schema and the first batch),
 * then each after a release or `pause` ms. `id` names the stream for `/live-next/ID` and `/live-log/ID`.
 */
export async function serveLive(
  res: ServerResponse,
  path: string,
  headers: Record<string, string>,
  params: URLSearchParams,
): Promise<void> {
  const requested = now();
  const { bytes, ends } = readStream(path);
  const id = params.get('id') ?? `${Math.random()}`;
  const pause = params.has('pause') ? Number(params.get('pause')) : null;
  const state: LiveStream = {
    requested,
    sent: [],
    released: Number(params.get('first') ?? 2),
    groups: ends.length,
    wake: null,
  };
  streams.set(id, state);
  let closed = false;
  res.on('close', () => {
    closed = true;
    state.wake?.();
  });
  res.writeHead(200, headers); // no Content-Length: sent chunked, as a live stream is
  let at = 0;
  for (const [group, end] of ends.entries()) {
    if (pause !== null && group >= state.released) await new Promise((r) => setTimeout(r, pause));
    else while (group >= state.released && !closed) await new Promise<void>((r) => (state.wake = r));
    if (closed) return;
    state.sent.push(now()); // when the group's bytes are handed to the socket
    await new Promise<void>((resolve) => res.write(bytes.subarray(at, end), () => resolve()));
    at = end;
  }
  res.end(bytes.subarray(at));
}

/** `/live-next/ID?count=N` releases N more groups (default 1, `all` for the rest); answers the log. */
export function releaseLive(id: string, count: string | null): LiveLog | null {
  const state = streams.get(id);
  if (!state) return null;
  state.released += count === 'all' ? state.groups : Number(count ?? 1);
  state.wake?.();
  return liveLog(id);
}

/** What a live stream sent so far. */
export interface LiveLog {
  /** When the request came, in the server's `timeOrigin + now` ms. */
  requested: number;
  /** When each group was handed to the socket (schema first), in the server's `timeOrigin + now` ms. */
  sent: number[];
  groups: number;
}

/** `/live-log/ID`: the stream's log, or `null` for an unknown id. */
export function liveLog(id: string): LiveLog | null {
  const state = streams.get(id);
  return state ? { requested: state.requested, sent: [...state.sent], groups: state.groups } : null;
}

/** Handles `/live/<fixture>`, `/live-next/ID` and `/live-log/ID`; other requests go to `next`. */
export function handleLive(
  req: IncomingMessage,
  res: ServerResponse,
  resolvePath: (name: string) => string | null,
  headers: Record<string, string>,
): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [route, ...rest] = url.pathname.split('/').filter(Boolean);
  const json = (value: unknown) => {
    res.writeHead(value === null ? 404 : 200, {
      ...headers,
      'Content-Type': 'application/json',
    });
    res.end(JSON.stringify(value));
  };
  if (route === 'live-next' && rest[0]) json(releaseLive(rest[0], url.searchParams.get('count')));
  else if (route === 'live-log' && rest[0]) json(liveLog(rest[0]));
  else if (route === 'live' && rest.length > 0) {
    const path = resolvePath(rest.join('/'));
    if (!path) return false;
    void serveLive(res, path, headers, url.searchParams);
  } else return false;
  return true;
}
