/**
 * Target `dump`: DUMP / RESTORE payloads (`restoreValue`) and FUNCTION DUMP / RESTORE payloads
 * (`restoreFunctionLibraries`) of src/persistence/rdb/dump.ts.
 *
 * Each input is tried as it is (which mostly exercises the footer checks) and with its footer's
 * CRC-64 recomputed (the version bytes kept), so that mutated values reach the value parser.
 *
 * Crash: an exception other than DumpPayloadError, or a broken invariant: a restored value
 * that, dumped again (dumpValue / dumpFunctionLibraries) and restored, is not the same value.
 *
 * @module
 */
import {
  dumpFunctionLibraries,
  DumpPayloadError,
  dumpValue,
  restoreFunctionLibraries,
  restoreValue,
  withDumpFooter,
} from "../../src/persistence/rdb/dump.ts";
import { crc64 } from "../../src/persistence/rdb/crc64.ts";
import type { CollectionValue } from "../../src/store/collection.ts";
import { check, concat, type FuzzTarget, latin1, sameBytes, toHex } from "../target.ts";
import { compactBodies, sampleCollections } from "./_rdb_seeds.ts";

/** Longest string a fuzzed payload may hold: bounds what one input can allocate. */
const MAX_STRING = 1024 * 1024;

/** The payload with its CRC-64 recomputed over everything before it. */
function refooted(payload: Uint8Array): Uint8Array {
  const out = payload.slice();
  const at = out.length - 8;
  new DataView(out.buffer).setBigUint64(at, crc64(out.subarray(0, at)), true);
  return out;
}

function dumped(value: Uint8Array | CollectionValue): Uint8Array {
  return dumpValue(value, false);
}

function tryValue(payload: Uint8Array): void {
  let value: Uint8Array | CollectionValue;
  try {
    value = restoreValue(payload, MAX_STRING);
  } catch (e) {
    if (e instanceof DumpPayloadError) return;
    throw e;
  }
  check(value instanceof Uint8Array || value.size > 0, "an empty collection restored");
  const first = dumped(value);
  for (const compression of [false, true]) {
    const again = restoreValue(dumpValue(value, compression), MAX_STRING);
    const second = dumped(again);
    check(
      sameBytes(first, second),
      () => `restored ${toHex(first)}, dumped and restored again ${toHex(second)}`,
    );
  }
}

function tryFunctions(payload: Uint8Array): void {
  let codes: Uint8Array[];
  try {
    codes = restoreFunctionLibraries(payload, MAX_STRING);
  } catch (e) {
    if (e instanceof DumpPayloadError) return;
    throw e;
  }
  const again = restoreFunctionLibraries(dumpFunctionLibraries(codes, true), MAX_STRING);
  check(
    again.length === codes.length && again.every((code, i) => sameBytes(code, codes[i])),
    "function libraries dumped and restored again differ",
  );
}

/** The dump target. */
export const dumpTarget: FuzzTarget = {
  name: "dump",
  description: "restoreValue / restoreFunctionLibraries: DumpPayloadError only, round trips",
  maxLength: 4096,
  corpus: () => {
    const values: (Uint8Array | CollectionValue)[] = [
      latin1(""),
      latin1("hello"),
      latin1("12345"),
      latin1("-2147483648"),
      latin1("abc".repeat(40)),
      ...sampleCollections(),
    ];
    const payloads = values.flatMap((v) => [dumpValue(v, true), dumpValue(v, false)]);
    for (const [type, body] of compactBodies()) {
      payloads.push(withDumpFooter(concat([Uint8Array.of(type), body])));
    }
    payloads.push(
      dumpFunctionLibraries([
        latin1("#!lua name=mylib\nredis.register_function('f', function() return 1 end)"),
        latin1("#!lua name=other\n" + "-- padding ".repeat(10)),
      ], true),
    );
    payloads.push(withDumpFooter(Uint8Array.of(0x00, 0x03, 0x61, 0x62, 0x63), 9));
    return payloads;
  },
  dictionary: [[0xc0], [0xc1], [0xc2], [0xc3], [0x80], [0x81], [0xf5], [0x0a, 0x00], [0xff]].map(
    (b) => Uint8Array.from(b),
  ),
  run(input: Uint8Array): void {
    tryValue(input);
    tryFunctions(input);
    if (input.length >= 10) {
      const fixed = refooted(input);
      tryValue(fixed);
      tryFunctions(fixed);
    }
  },
};
