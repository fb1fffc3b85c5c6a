// Types for bus.js (clients/js/bus.js). Hand-written to match its JSDoc; the node tests
// import the module itself, so keep the two in step when either changes.

export declare const PROTOCOL: "bus.v1";

export interface ReconnectOptions {
  /** Full-jitter window of the first retry after a drop, ms (3000). Doubles per retry. */
  firstWindow: number;
  /** Cap of the window, ms (30000). */
  maxDelay: number;
  /** Added to the jittered wait when the server is overloaded (1013; 503/429 where visible), ms (5000). */
  overloadFloor: number;
  /** A connection open this long resets the retry count and the 4008 streak, ms (20000). */
  stableAfter: number;
}

export declare const DEFAULT_RECONNECT: Readonly<ReconnectOptions>;
export declare const DEFAULT_PUBLISH_TIMEOUT: number;
export declare const DEFAULT_MAX_TRACKED_TOPICS: number;

export interface Position {
  epoch: string;
  seq: number;
}

export interface TopicPosition extends Position {
  topic: string;
}

export interface Message {
  topic: string;
  epoch: string;
  seq: number;
  /** The published JSON value, or the payload bytes when `binary` is true. */
  data: any;
  binary: boolean;
}

export interface PublishAck {
  topic: string;
  epoch: string;
  seq: number;
  subscribers: number;
}

export interface Gap {
  /** The subscription's pattern (or literal topic). */
  pattern: string;
  /** The topic that lost messages (the pattern itself for reason "unknown"). */
  topic: string;
  /**
   * "history": history no longer held them; "epoch": the topic's epoch changed (restart,
   * eviction); "seq": a sequence number was skipped; "unknown": the server could not name
   * what a pattern lost (a cursor from another server life).
   */
  reason: "history" | "epoch" | "seq" | "unknown";
  /** The last position delivered before the gap, when there was one. */
  from?: Position;
  /** The first position after the gap, when known. */
  next?: Position;
  /** How many messages were lost, when `from` and `next` share an epoch. */
  count?: number;
}

export type TokenReason = "initial" | "reconnect" | "expired" | "unauthorized";

export interface BusOptions {
  /** A WebSocket class; defaults to globalThis.WebSocket (browsers, Node 22+). */
  WebSocket?: any;
  /** A token, or a callback asked before each connection attempt (sent as ?token=). */
  token?: string | ((context: { reason: TokenReason }) => string | Promise<string>);
  reconnect?: Partial<ReconnectOptions>;
  /** ms to wait for a publish ack (10000). */
  publishTimeout?: number;
  /** Per-topic positions kept per subscription for duplicate detection (10000). */
  maxTrackedTopics?: number;
  /** Uniform in [0, 1): the jitter source (Math.random). */
  random?: () => number;
}

export interface SubscribeOptions {
  onMessage?: (message: Message) => void;
  onGap?: (gap: Gap) => void;
  onError?: (error: BusError) => void;
  /** Where the first subscribe resumes from (later ones resume from what was delivered). */
  since?: Position | { cursor: string; positions?: TopicPosition[] };
  /** The first subscribe replays the newest `last` retained messages. */
  last?: number;
  maxTrackedTopics?: number;
}

export type BusState = "connecting" | "connected" | "reconnecting" | "closed";

export interface StateInfo {
  code?: number;
  reason?: string;
  /** The HTTP status of a refused handshake, where the WebSocket implementation tells it (Node's ws does; browsers never do). */
  status?: number;
  /** ms until the next attempt. */
  delay?: number;
  error?: BusError;
}

export declare class BusError extends Error {
  constructor(code: string, message: string, details?: object);
  /** A Protocol.md error code, or one of: not_connected, unknown_outcome, timeout, unauthorized, token_expired, refused, closed, bad_frame, listener_failed, token_failed. */
  code: string;
  topic?: string;
  positions?: TopicPosition[];
  /** The close code, reason and HTTP status (where visible) that ended the bus. */
  close?: { code?: number; reason?: string; status?: number };
  cause?: unknown;
}

export declare class Subscription {
  readonly bus: Bus;
  readonly pattern: string;
  readonly isPattern: boolean;
  state: "pending" | "active" | "closed";
  /** The newest cursor (patterns). */
  cursor: string | undefined;
  /** Resolves at the first ack; rejects if refused, unsubscribed or the bus closes first. */
  readonly ready: Promise<Subscription>;
  position(topic?: string): Position | undefined;
  unsubscribe(): void;
  on(event: "message", listener: (message: Message) => void): () => void;
  on(event: "gap", listener: (gap: Gap) => void): () => void;
  on(event: "ack", listener: (ack: any) => void): () => void;
  on(event: "error", listener: (error: BusError) => void): () => void;
}

export declare class Bus {
  constructor(url: string, options?: BusOptions);
  readonly url: string;
  state: BusState;
  readonly connected: boolean;
  welcome: any;
  stats: { received: number; duplicates: number; gaps: number; published: number; reconnects: number };
  /** Why the bus closed for good, if it did. */
  error: BusError | undefined;
  subscribe(pattern: string, options?: SubscribeOptions): Subscription;
  publish(topic: string, data: unknown, options?: { timeout?: number }): Promise<PublishAck>;
  publishJSON(topic: string, json: string, options?: { timeout?: number }): Promise<PublishAck>;
  close(): void;
  on(event: "state", listener: (state: BusState, info: StateInfo) => void): () => void;
  on(event: "welcome", listener: (welcome: any) => void): () => void;
  on(event: "error", listener: (error: BusError) => void): () => void;
}

export declare function connect(url: string, options?: BusOptions): Bus;
export declare function reconnectDelay(kind: "now" | "normal" | "overloaded", attempt: number,
  options?: Partial<ReconnectOptions>, random?: () => number): number;
export declare function isPattern(pattern: string): boolean;
export declare function matches(pattern: string, topic: string): boolean;
export declare function encodeBinaryPublish(topic: string, id: string | undefined, payload: Uint8Array): Uint8Array;
export declare function decodeBinaryMessage(bytes: Uint8Array): { topic: string; epoch: string; seq: number; data: Uint8Array } | null;
