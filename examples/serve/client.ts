// One charging session driven through `mockpoint serve` (docs/serve.md) with Node's fetch,
// following the charge point's event stream as it goes.
//
//   mockpoint serve &
//   npm ci --prefix examples/serve
//   npm run --prefix examples/serve client -- [CHARGE_POINT_ID]   # MOCKPOINT_URL: the server

const url = process.env.MOCKPOINT_URL ?? "http://127.0.0.1:8180";
const cp = process.argv[2] ?? process.env.CHARGE_POINT_ID ?? "CP-TS";

type Frame = { direction: "out" | "in"; frame: any[] };

// A request with a JSON body or none; the answer, or an Error with the server's message.
async function call(method: string, path: string, body?: object): Promise<any> {
  const response = await fetch(url + path, {
    method,
    headers: body && { "Content-Type": "application/json" },
    body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const answer = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${answer.message ?? answer.error}`);
  }
  return answer;
}

// The frame events of the stream, up to the one saying the charge point was deleted.
async function framesUntilDeleted(events: ReadableStream<Uint8Array>): Promise<Frame[]> {
  const frames: Frame[] = [];
  const reader = events.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the event stream ended before the charge point was deleted");
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      const data = lines.find((line) => line.startsWith("data:"));
      if (data === undefined) continue; // a comment: the stream's greeting, a keep-alive
      const event = JSON.parse(data.slice("data:".length));
      if (event.type === "frame") frames.push(event);
      else if (event.change === "deleted") return frames;
    }
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timer = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref(),
  );
  return Promise.race([promise, timer]);
}

async function session(): Promise<void> {
  // The stream answers once it listens: nothing the charge point does is missed.
  const stop = new AbortController();
  const query = new URLSearchParams({ charge_point: cp, types: "frame,charge_point" });
  const events = await fetch(`${url}/events?${query}`, { signal: stop.signal });
  if (!events.ok || events.body === null) throw new Error(`GET /events: ${events.status}`);
  const reading = framesUntilDeleted(events.body);
  reading.catch(() => {}); // read below, or dropped when something failed before
  try {
    await call("POST", "/charge-points", { charge_point: { id: cp, connectors: 1 } });
    const verb = (name: string, body: object) => call("POST", `/charge-points/${cp}/${name}`, body);
    let started: any, listed: unknown[];
    try {
      await verb("plug_in", { connector: 1 });
      started = await verb("start_transaction", { connector: 1, id_tag: "TAG-1" });
      await verb("charge", { connector: 1, power: "11kW", duration: "30m" });
      await verb("stop_transaction", { connector: 1 });
      await verb("unplug", { connector: 1 });
      listed = await call("GET", `/charge-points/${cp}/frames`);
    } finally {
      // Deleting it ends its story in the stream.
      await call("DELETE", `/charge-points/${cp}`);
    }
    const frames = await within(reading, 10_000, "the event stream");

    const calls = frames
      .filter(({ direction, frame }) => direction === "out" && frame[0] === 2)
      .map(({ frame }) => frame);
    const order = calls.map((call) => call[2]).filter((a) => /^(Start|Stop)Transaction$/.test(a));
    if (order.join(" ") !== "StartTransaction StopTransaction") {
      throw new Error(`expected StartTransaction then StopTransaction in the stream, saw ${order}`);
    }
    const start = calls.find((call) => call[2] === "StartTransaction")![3];
    const end = calls.find((call) => call[2] === "StopTransaction")![3];
    const kwh = ((end.meterStop - start.meterStart) / 1000).toFixed(2);
    console.log(
      `${cp}: transaction ${started.answer.transactionId}, ${kwh} kWh, ` +
        `${frames.length} frames in the event stream, ${listed.length} listed by the server`,
    );
  } finally {
    stop.abort();
  }
}

session().catch((error) => {
  console.error(`client.ts: ${error.message}${error.cause ? ` (${error.cause.message})` : ""}`);
  process.exitCode = 1;
});
