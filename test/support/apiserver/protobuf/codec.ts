/* eslint-disable @typescript-eslint/no-explicit-any -- messages become untyped Kubernetes JSON here */
/**
 * Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`): the 4-byte magic `k8s\0`,
 * then a runtime.Unknown whose typeMeta names the kind and whose raw bytes are the message. Decoding
 * gives the object's JSON form (zero values of non-pointer fields dropped, as Go's `omitempty`
 * would); encoding is the reverse and throws on a JSON field the tables do not know, so the caller
 * can answer JSON instead of losing it.
 */
import { CORE_MESSAGES, KIND_MESSAGES } from './core-messages.js';
import { META_MESSAGES, type MessageTable } from './meta-messages.js';
import { lengthDelimited, Reader, signed, tag, varint, WIRE } from './wire.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const MESSAGES: MessageTable = { ...META_MESSAGES, ...CORE_MESSAGES };

interface Field { number: number; name: string; type: string; repeated: boolean; map: boolean; pointer: boolean; inline: boolean }

const parsed = new Map<string, Field[]>();
function fieldsOf(message: string): Field[] {
  const cached = parsed.get(message);
  if (cached !== undefined) return cached;
  const table = MESSAGES[message];
  if (table === undefined) throw new Error(`no protobuf table for ${message}`);
  const fields = Object.entries(table).map(([number, spec]) => {
    const [name, rawType] = spec.split(' ') as [string, string];
    const pointer = rawType.endsWith('?');
    const inline = rawType.endsWith('!');
    let type = rawType.replace(/[?!]$/, '');
    const repeated = type.startsWith('[]');
    const map = type.startsWith('map<');
    if (repeated) type = type.slice(2);
    if (map) type = type.slice(4, -1);
    return { number: Number(number), name, type, repeated, map, pointer, inline };
  });
  parsed.set(message, fields);
  return fields;
}

export class ProtobufError extends Error {}

// ---- decoding -------------------------------------------------------------------------------

function decodeScalar(type: string, reader: Reader, wire: number, where: string): any {
  switch (type) {
    case 'string': return reader.bytes().toString('utf8');
    case 'bytes': return reader.bytes().toString('base64');
    case 'int32': case 'int64': return signed(reader.varint());
    case 'bool': return reader.varint() !== 0n;
    case 'Time': case 'MicroTime': {
      const time = decodeMessage('Timestamp', reader.bytes(), where) as { seconds?: number; nanos?: number };
      if ((time.seconds ?? 0) === 0 && (time.nanos ?? 0) === 0) return null;
      const iso = new Date((time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6)).toISOString();
      return type === 'Time' ? iso.replace(/\.\d+Z$/, 'Z') : iso.replace(/Z$/, '000Z');
    }
    case 'Quantity': return (decodeMessage('QuantityValue', reader.bytes(), where) as { string?: string }).string ?? '';
    case 'IntOrString': {
      const value = decodeMessage('IntOrStringValue', reader.bytes(), where) as { type?: number; intVal?: number; strVal?: string };
      return value.type === 1 ? value.strVal ?? '' : value.intVal ?? 0;
    }
    case 'FieldsV1': case 'RawExtension': {
      const raw = (decodeMessage('RawBytes', reader.bytes(), where) as { raw?: string }).raw;
      return raw === undefined ? {} : JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    }
    default:
      if (wire !== WIRE.bytes) throw new ProtobufError(`${where}: expected a message, got wire type ${wire}`);
      return decodeMessage(type, reader.bytes(), where);
  }
}

const SPECIAL_MESSAGES: MessageTable = {
  Timestamp: { 1: 'seconds int64', 2: 'nanos int32' },
  QuantityValue: { 1: 'string string' },
  IntOrStringValue: { 1: 'type int64', 2: 'intVal int32', 3: 'strVal string' },
  RawBytes: { 1: 'raw bytes' },
};
Object.assign(MESSAGES, SPECIAL_MESSAGES);

const isZero = (value: any): boolean => value === '' || value === 0 || value === false || value === null;

export function decodeMessage(message: string, bytes: Buffer, where = message): Record<string, any> {
  const fields = fieldsOf(message);
  const result: Record<string, any> = {};
  const reader = new Reader(bytes);
  while (!reader.done()) {
    const { field: number, wire } = reader.tag();
    const field = fields.find((candidate) => candidate.number === number);
    if (field === undefined) throw new ProtobufError(`${where}: field number ${number} of ${message} is not known to the test API server`);
    const path = `${where}.${field.name}`;
    if (field.map) {
      const entry = new Reader(reader.bytes());
      let key = '';
      let value: any = field.type === 'string' || field.type === 'bytes' ? '' : undefined;
      while (!entry.done()) {
        const inner = entry.tag();
        if (inner.field === 1) key = entry.bytes().toString('utf8');
        else if (inner.field === 2) value = decodeScalar(field.type, entry, inner.wire, `${path}[${key}]`);
        else entry.skip(inner.wire);
      }
      (result[field.name] ??= {})[key] = value;
    } else if (field.repeated && wire === WIRE.bytes && (field.type === 'int32' || field.type === 'int64')) {
      const packed = new Reader(reader.bytes());
      while (!packed.done()) (result[field.name] ??= []).push(signed(packed.varint()));
    } else if (field.repeated) {
      (result[field.name] ??= []).push(decodeScalar(field.type, reader, wire, path));
    } else {
      const value = decodeScalar(field.type, reader, wire, path);
      if (field.inline) Object.assign(result, value);
      else if (field.pointer || !isZero(value)) result[field.name] = value;
      else delete result[field.name];
    }
  }
  return result;
}

// ---- encoding -------------------------------------------------------------------------------

function encodeScalar(type: string, number: number, value: any, where: string): Buffer {
  switch (type) {
    case 'string': return lengthDelimited(number, Buffer.from(String(value), 'utf8'));
    case 'bytes': return lengthDelimited(number, Buffer.from(String(value), 'base64'));
    case 'int32': case 'int64': return Buffer.concat([tag(number, WIRE.varint), varint(Math.trunc(Number(value)))]);
    case 'bool': return Buffer.concat([tag(number, WIRE.varint), varint(value === true ? 1 : 0)]);
    case 'Time': case 'MicroTime': {
      const millis = Date.parse(String(value));
      if (Number.isNaN(millis)) throw new ProtobufError(`${where}: not a time: ${String(value)}`);
      return lengthDelimited(number, encodeMessage('Timestamp', { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1e6 }, where));
    }
    case 'Quantity': return lengthDelimited(number, encodeMessage('QuantityValue', { string: String(value) }, where));
    case 'IntOrString': return lengthDelimited(number, encodeMessage('IntOrStringValue', typeof value === 'string' ? { type: 1, strVal: value } : { type: 0, intVal: value }, where));
    case 'FieldsV1': case 'RawExtension': return lengthDelimited(number, encodeMessage('RawBytes', { raw: Buffer.from(JSON.stringify(value)).toString('base64') }, where));
    default: return lengthDelimited(number, encodeMessage(type, value ?? {}, where));
  }
}

export function encodeMessage(message: string, object: Record<string, any>, where = message): Buffer {
  const fields = fieldsOf(message);
  const parts: Buffer[] = [];
  const claimed = new Set<string>();
  for (const field of fields) {
    if (field.inline) {
      const inner = Object.fromEntries(fieldsOf(field.type).map((child) => child.name).filter((name) => name in object).map((name) => [name, object[name]]));
      for (const name of Object.keys(inner)) claimed.add(name);
      if (Object.keys(inner).length > 0) parts.push(encodeScalar(field.type, field.number, inner, where));
      continue;
    }
    claimed.add(field.name);
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    const path = `${where}.${field.name}`;
    if (field.map) {
      for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
        parts.push(lengthDelimited(field.number, Buffer.concat([lengthDelimited(1, Buffer.from(key, 'utf8')), encodeScalar(field.type, 2, entry, `${path}[${key}]`)])));
      }
    } else if (field.repeated) {
      for (const item of value as unknown[]) parts.push(encodeScalar(field.type, field.number, item, path));
    } else {
      parts.push(encodeScalar(field.type, field.number, value, path));
    }
  }
  // apiVersion and kind travel in the envelope (and list items carry none).
  const unknown = Object.keys(object).filter((key) => !claimed.has(key) && key !== 'apiVersion' && key !== 'kind');
  if (unknown.length > 0) throw new ProtobufError(`${where}: no protobuf field for ${unknown.join(', ')}`);
  return Buffer.concat(parts);
}

// ---- the envelope ---------------------------------------------------------------------------

const kindKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;

/** Whether a body of this apiVersion/kind can be spoken in protobuf here. */
export const hasProtobuf = (apiVersion: string, kind: string): boolean => KIND_MESSAGES[kindKey(apiVersion, kind)] !== undefined;

/** A `k8s\0` body → the object as JSON (with apiVersion and kind from the envelope). */
export function decodeProtobufBody(body: Buffer): Record<string, any> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw new ProtobufError('the protobuf body does not start with the k8s\\0 magic');
  const envelope = decodeMessage('Unknown', body.subarray(MAGIC.length));
  const { apiVersion = '', kind = '' } = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const message = KIND_MESSAGES[kindKey(apiVersion, kind)];
  if (message === undefined) throw new ProtobufError(`${apiVersion}, Kind=${kind} is not served as protobuf by the test API server`);
  const raw = Buffer.from(String(envelope.raw ?? ''), 'base64');
  return { apiVersion, kind, ...decodeMessage(message, raw, kind) };
}

/** The object (with apiVersion and kind) as a `k8s\0` body. */
export function encodeProtobufBody(object: Record<string, any>): Buffer {
  const message = KIND_MESSAGES[kindKey(object.apiVersion, object.kind)];
  if (message === undefined) throw new ProtobufError(`${String(object.apiVersion)}, Kind=${String(object.kind)} has no protobuf table`);
  const raw = encodeMessage(message, object, object.kind);
  const typeMeta = encodeMessage('TypeMeta', { apiVersion: object.apiVersion, kind: object.kind });
  return Buffer.concat([MAGIC, lengthDelimited(1, typeMeta), lengthDelimited(2, raw), lengthDelimited(3, Buffer.alloc(0)), lengthDelimited(4, Buffer.alloc(0))]);
}
