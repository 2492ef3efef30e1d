// Subscriptions over Server-Sent Events, holding as little as possible per open stream. Yoga sets a
// subscription up as it does any operation (CSRF, key, limits, validation, the root field's subscribe
// resolver, every plugin's hooks); from then on an idle stream is only its connection, which the server
// writes to itself (EventStream.sendTo), and its source of events (LiveStream). Each event is executed on
// its own, through envelop's `execute` (masking, metrics and tracing as for any execution) with a context
// made for that event; the request, its context and the per-request chain of iterator wrappers that
// graphql-js and every plugin would keep for the stream's whole life are let go. One timer pings every
// stream. The wire format is
// Yoga's (GraphQL over SSE, "distinct connections"): a `:` comment at once and every PING_INTERVAL_MS,
// `event: next` per result and `event: complete` at the end.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createSourceEventStream, execute as graphqlExecute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { loggable } from '../db/errors.js';
import type { Logger } from '../logger.js';
import { requestScope, type RequestScope } from '../request-context.js';

/** Yoga's interval (300 ms under NODE_ENV=test, as Yoga's, so tests see pings). */
export const PING_INTERVAL_MS = process.env.NODE_ENV === 'test' ? 300 : 12_000;
const PING = ':\n\n';
const COMPLETE = 'event: complete\ndata:\n\n';

type Result = ExecutionResult & { stringify?: (result: unknown) => string };
type Execute = (args: ExecutionArgs) => unknown;

/** What a subscription keeps between events: its operation and whom it runs for, not its request. */
type Operation<TContext> = Readonly<{
  schema: ExecutionArgs['schema'];
  document: DocumentNode;
  variableValues: ExecutionArgs['variableValues'];
  operationName: ExecutionArgs['operationName'];
  /** The context of one event's execution. */
  context: () => TContext;
  scope: RequestScope | undefined;
}>;

/** The results of one subscription: each source event executed on its own when it is taken. */
class EventExecutions<TContext> implements AsyncIterableIterator<Result> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly operation: Operation<TContext>,
    private readonly execute: (operation: Operation<TContext>, event: unknown) => Promise<Result>,
  ) {}

  async next(): Promise<IteratorResult<Result>> {
    const event = await this.source.next();
    if (event.done) return { done: true, value: undefined };
    return { done: false, value: await this.execute(this.operation, event.value) };
  }

  async return(): Promise<IteratorResult<Result>> {
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Result> {
    return this;
  }
}

/** What clients must not see of a result (Yoga's own marks: the HTTP status an error carried, its masking flag). */
function withoutInternals(result: Result): unknown {
  if (!result.errors?.length && result.extensions?.http === undefined) return result;
  const errors = result.errors?.map((error) => {
    const json = error.toJSON() as { extensions?: Record<string, unknown> };
    if (!json.extensions) return json;
    const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
    return { ...json, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
  });
  const { http: _http, ...extensions } = result.extensions ?? {};
  return { ...result, errors, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}

/** Where a stream's text goes: `write` answers false while the reader is behind (then `resume()` is awaited). */
type Sink = Readonly<{ write(chunk: string): boolean; end(chunk: string): void }>;

/** One open stream: takes the next result only when its reader took the last one. */
export class EventStream {
  private sink: Sink | undefined;
  private pulling = false;
  private blocked = false;
  private ended = false;

  constructor(
    private readonly results: AsyncIterator<Result>,
    private readonly open: Set<EventStream>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts writing to `sink` (once): a ping at once, then results as they come. */
  start(sink: Sink): void {
    if (this.sink || this.ended) return;
    this.sink = sink;
    this.open.add(this);
    this.blocked = !sink.write(PING);
    this.pull();
  }

  /** The reader took what it had: go on. */
  resume(): void {
    this.blocked = false;
    this.pull();
  }

  private pull(): void {
    if (this.pulling || this.blocked || this.ended || !this.sink) return;
    this.pulling = true;
    this.results.next().then(
      ({ done, value }) => {
        this.pulling = false;
        if (this.ended) return;
        if (value != null) this.blocked = !this.sink!.write(`event: next\ndata: ${(value.stringify ?? JSON.stringify)(withoutInternals(value))}\n\n`);
        if (done) this.finish();
        else this.pull();
      },
      (error: unknown) => {
        this.pulling = false;
        // A failure of ours (logged with the request id): the stream ends as if complete; the client reconnects.
        this.onError(error);
        this.finish();
      },
    );
  }

  /** A keep-alive comment, unless the reader is behind (then it is not idle). */
  ping(): void {
    if (!this.blocked && !this.ended) this.blocked = !this.sink!.write(PING);
  }

  /** Marks the stream ended, once: whether it was still open. */
  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.open.delete(this);
    return true;
  }

  private finish(): void {
    if (this.end()) this.sink?.end(COMPLETE);
  }

  /** The reader went away: the subscription ends. */
  close(): void {
    if (this.end()) void this.results.return?.()?.catch(() => {});
  }

  /** Written to a node:http response directly (the server's path: nothing of the request is kept). */
  sendTo(res: ServerResponse, status: number, headers: Headers): void {
    // The client left while the subscription was set up: its 'close' is past, so end it here.
    if (res.destroyed || res.closed) return this.close();
    res.writeHead(status, Object.fromEntries(headers));
    res.on('drain', () => this.resume());
    res.once('close', () => this.close());
    this.start({ write: (chunk) => res.write(chunk), end: (chunk) => void res.end(chunk) });
  }

  /** As a response body's chunks (in-process callers, app.fetch): a node Readable made when first read. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const stream = this;
    const readable = new (class extends Readable {
      override _read(): void {
        stream.resume();
      }
      override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
        stream.close();
        callback(error);
      }
    })({ highWaterMark: 1 });
    this.start({
      write: (chunk) => readable.push(chunk),
      end: (chunk) => {
        readable.push(chunk);
        readable.push(null);
      },
    });
    return readable[Symbol.asyncIterator]();
  }
}

export type EventStreams = Readonly<{
  /** The event stream a response of ours carries, for the server to write to its socket itself. */
  streamOf(response: Response): EventStream | undefined;
  /** Stops the ping timer (the streams themselves end with their sources). */
  close(): void;
}>;

export type EventStreamOptions<TContext> = Readonly<{
  /** envelop's execute, with every plugin's execution hooks (yoga.getEnveloped().execute). */
  execute: () => Execute;
  /** At subscribe time, from the subscription's context: makes each event's (a fresh one each time, without the request). */
  contextForEvents: (subscription: TContext) => () => TContext;
  logger: Logger;
}>;

/**
 * Serves subscriptions over SSE through EventExecutions and EventStream; every other result keeps
 * Yoga's processors. Listed before the plugins that wrap execution (tracing), so they wrap an event's
 * too. `close()` stops the ping timer (the streams themselves end with their sources).
 */
export function useLeanEventStreams<TContext extends object>({ execute, contextForEvents, logger }: EventStreamOptions<TContext>): Plugin & EventStreams {
  const open = new Set<EventStream>();
  const responses = new WeakMap<Response, EventStream>();
  const subscriptions = new WeakMap<object, EventExecutions<TContext>>();
  /** The contexts of events' executions (the executor then runs the subscription's selection on the event). */
  const eventContexts = new WeakSet<object>();
  const timer = setInterval(() => {
    for (const stream of open) stream.ping();
  }, PING_INTERVAL_MS);
  timer.unref();

  const executeEvent = async (operation: Operation<TContext>, event: unknown): Promise<Result> => {
    const contextValue = operation.context();
    eventContexts.add(contextValue);
    const run = async () =>
      (await execute()({
        schema: operation.schema,
        document: operation.document,
        rootValue: event,
        contextValue,
        variableValues: operation.variableValues,
        operationName: operation.operationName,
      })) as Result;
    return operation.scope ? requestScope.run(operation.scope, run) : run();
  };

  return {
    onSubscribe({ args, setSubscribeFn }) {
      const request = (args.contextValue as { request?: object }).request;
      if (!request) return;
      setSubscribeFn(async (subscribeArgs) => {
        const source = await createSourceEventStream(subscribeArgs);
        if (!isAsyncIterable(source)) return source;
        const operation: Operation<TContext> = Object.freeze({
          schema: subscribeArgs.schema,
          document: subscribeArgs.document,
          variableValues: subscribeArgs.variableValues,
          operationName: subscribeArgs.operationName,
          context: contextForEvents(subscribeArgs.contextValue as TContext),
          scope: requestScope.getStore(),
        });
        const executions = new EventExecutions(source[Symbol.asyncIterator](), operation, executeEvent);
        subscriptions.set(request, executions);
        return executions;
      });
    },
    onExecute({ args, setExecuteFn }) {
      // Yoga's executor would subscribe anew for a subscription document; an event runs its selection once.
      if (eventContexts.has(args.contextValue as object)) setExecuteFn(graphqlExecute);
    },
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      if (!isAsyncIterable(result)) return;
      const executions = subscriptions.get(request);
      subscriptions.delete(request);
      if (!resultProcessor) {
        // Not acceptable (Yoga answers 406): nothing will read the stream, so it ends now.
        void (executions ?? result[Symbol.asyncIterator]()).return?.();
        return;
      }
      // Yoga offers subscriptions only over SSE: an async-iterable result that found a processor found SSE.
      // Ours is read directly: the wrappers around it in `result` are dropped with the request.
      const results = executions ?? (result as AsyncIterable<Result>)[Symbol.asyncIterator]();
      const requestId = requestScope.getStore()?.requestId;
      setResultProcessor((_processed, fetchAPI) => {
        const stream = new EventStream(results, open, (error) => logger.error({ err: loggable(error), requestId }, 'live updates: an event could not be delivered; the stream was ended'));
        // The body is made only if someone reads it; the server writes the stream to its socket instead (streamOf).
        const response = new fetchAPI.Response(stream as unknown as BodyInit, {
          status: 200,
          headers: { 'content-type': 'text/event-stream', connection: 'keep-alive', 'cache-control': 'no-cache', 'content-encoding': 'none' },
        });
        responses.set(response, stream);
        return response;
      }, 'text/event-stream');
    },
    streamOf: (response) => responses.get(response),
    close: () => clearInterval(timer),
  };
}
