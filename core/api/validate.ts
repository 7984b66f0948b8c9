// Offline validation of Portcullis objects against their CRD's OpenAPI schema: types, required fields, enums,
// bounds, patterns, formats, list uniqueness and unknown fields — everything the API server checks before CEL.
// The offline tools (explain, the standalone sidecar) run it so a typo gets the same field-named error a cluster
// would give, before any cluster sees the object. CEL rules (x-kubernetes-validations) are NOT evaluated here.
import { apiKinds, crdSchemas, type ApiKind } from './schemas.generated.ts';
import type { OpenApiSchema } from './schema.ts';

/** One problem, named by its field path as the API server names it (`spec.resources[0].rules[1].action`). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export function formatFieldError(e: FieldError): string {
  return e.field === '' ? e.message : `${e.field}: ${e.message}`;
}

export function formatFieldErrors(errors: readonly FieldError[]): string[] {
  return errors.map(formatFieldError);
}

const API_VERSION = 'portcullis.dev/v1alpha1';
const kindSet: ReadonlySet<string> = new Set(apiKinds);

export function isApiKind(kind: unknown): kind is ApiKind {
  return typeof kind === 'string' && kindSet.has(kind);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// Custom resource names are DNS subdomains; namespaces are DNS labels (as the API server requires).
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Validates a whole object: apiVersion, kind, metadata.name/namespace, then spec and status against the kind's
 * schema. Returns every problem found (empty when valid), in document order.
 */
export function validateObject(obj: unknown): FieldError[] {
  if (!isObj(obj)) return [{ field: '', message: `Invalid value: ${show(obj)}: must be an object` }];
  const errors: FieldError[] = [];
  if (obj.apiVersion !== API_VERSION) {
    errors.push(unsupported('apiVersion', obj.apiVersion, [API_VERSION]));
  }
  if (!isApiKind(obj.kind)) {
    errors.push(unsupported('kind', obj.kind, apiKinds));
    return errors;
  }
  checkMetadata(obj.metadata, errors);
  const schema = crdSchemas[obj.kind];
  // metadata is the API server's business (checked above), not the schema's.
  const { metadata: _metadata, ...rest } = obj;
  checkValue(schema, rest, '', errors);
  return errors;
}

/** Validates `value` against one schema; `path` prefixes every field name. */
export function validateAgainstSchema(schema: OpenApiSchema, value: unknown, path = ''): FieldError[] {
  const errors: FieldError[] = [];
  if (value === undefined || value === null) errors.push({ field: path, message: 'Required value' });
  else checkValue(schema, value, path, errors);
  return errors;
}

function checkMetadata(metadata: unknown, errors: FieldError[]): void {
  if (metadata === undefined || metadata === null) {
    errors.push({ field: 'metadata.name', message: 'Required value' });
    return;
  }
  if (!isObj(metadata)) {
    errors.push({ field: 'metadata', message: `Invalid value: ${show(metadata)}: must be of type object` });
    return;
  }
  const { name, namespace } = metadata;
  if (name === undefined || name === null || name === '') errors.push({ field: 'metadata.name', message: 'Required value' });
  else if (typeof name !== 'string' || name.length > 253 || !dnsSubdomain.test(name)) {
    errors.push({
      field: 'metadata.name',
      message: `Invalid value: ${show(name)}: must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', at most 253 characters)`,
    });
  }
  if (namespace !== undefined && namespace !== null && (typeof namespace !== 'string' || namespace.length > 63 || !dnsLabel.test(namespace))) {
    errors.push({
      field: 'metadata.namespace',
      message: `Invalid value: ${show(namespace)}: must be a lowercase RFC 1123 label (a-z, 0-9 and '-', at most 63 characters)`,
    });
  }
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

function checkValue(schema: OpenApiSchema, value: unknown, path: string, errors: FieldError[]): void {
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
      errors.push(typeError(path, value, 'integer or string'));
    }
    return;
  }
  switch (schema.type) {
    case 'object':
      if (!isObj(value)) return void errors.push(typeError(path, value, 'object'));
      return checkObject(schema, value, path, errors);
    case 'array':
      if (!Array.isArray(value)) return void errors.push(typeError(path, value, 'array'));
      return checkArray(schema, value, path, errors);
    case 'string':
      if (typeof value !== 'string') return void errors.push(typeError(path, value, 'string'));
      return checkString(schema, value, path, errors);
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return void errors.push(typeError(path, value, 'integer'));
      return checkNumber(schema, value, path, errors);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return void errors.push(typeError(path, value, 'number'));
      return checkNumber(schema, value, path, errors);
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(typeError(path, value, 'boolean'));
      return;
    default:
      if (!schema['x-kubernetes-preserve-unknown-fields']) errors.push({ field: path, message: 'Internal error: schema has no type' });
  }
}

function checkObject(schema: OpenApiSchema, value: Obj, path: string, errors: FieldError[]): void {
  const props = schema.properties;
  const additional = isObj(schema.additionalProperties) ? (schema.additionalProperties as OpenApiSchema) : undefined;
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
  for (const required of schema.required ?? []) {
    if (value[required] === undefined || value[required] === null) errors.push({ field: join(path, required), message: 'Required value' });
  }
  let count = 0;
  for (const [key, child] of Object.entries(value)) {
    // The API server drops nulls of non-nullable fields before validating; so does this.
    if (child === undefined || (child === null && !props?.[key]?.nullable)) continue;
    count++;
    const childSchema = props && Object.hasOwn(props, key) ? props[key] : undefined;
    if (childSchema) {
      if (child !== null) checkValue(childSchema, child, join(path, key), errors);
    } else if (additional) {
      checkValue(additional, child, `${path}[${key}]`, errors);
    } else if (!open) {
      errors.push({ field: join(path, key), message: `Unknown field ${show(key)}: not declared in the schema` });
    }
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    errors.push({ field: path, message: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
  }
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    errors.push({ field: path, message: `Invalid value: ${count}: must have at least ${schema.minProperties} properties` });
  }
}

function checkArray(schema: OpenApiSchema, value: readonly unknown[], path: string, errors: FieldError[]): void {
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    errors.push({ field: path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
  }
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    errors.push({ field: path, message: `Invalid value: ${value.length}: should have at least ${schema.minItems} items` });
  }
  const items = schema.items;
  if (items) {
    value.forEach((item, i) => {
      if (item === null || item === undefined) errors.push(typeError(`${path}[${i}]`, item, items.type ?? 'value'));
      else checkValue(items, item, `${path}[${i}]`, errors);
    });
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const identity = listType === 'set' ? item : isObj(item) ? Object.fromEntries(keys.map((k) => [k, item[k]])) : item;
      const key = JSON.stringify(identity);
      if (seen.has(key)) errors.push({ field: `${path}[${i}]`, message: `Duplicate value: ${show(identity)}` });
      seen.add(key);
    });
  }
}

const patternCache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    patternCache.set(pattern, re);
  }
  return re;
}

// OpenAPI counts characters, not UTF-16 code units; a string no longer in code units is no longer in characters.
const charCount = (s: string) => (/[\uD800-\uDFFF]/.test(s) ? [...s].length : s.length);

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkString(schema: OpenApiSchema, value: string, path: string, errors: FieldError[]): void {
  if (schema.enum) {
    if (!schema.enum.includes(value)) errors.push(unsupported(path, value, schema.enum));
    return;
  }
  const length = schema.maxLength !== undefined || schema.minLength !== undefined ? charCount(value) : 0;
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    errors.push({ field: path, message: `Too long: may not be more than ${schema.maxLength} characters` });
    return;
  }
  if (schema.minLength !== undefined && length < schema.minLength) {
    errors.push({ field: path, message: `Invalid value: ${show(value)}: should be at least ${schema.minLength} chars long` });
    return;
  }
  if (schema.pattern !== undefined && !compiled(schema.pattern).test(value)) {
    errors.push({ field: path, message: `Invalid value: ${show(value)}: should match '${schema.pattern}'` });
    return;
  }
  if (schema.format === 'date-time' && (!rfc3339.test(value) || Number.isNaN(Date.parse(value.replace(' ', 'T'))))) {
    errors.push({ field: path, message: `Invalid value: ${show(value)}: must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z` });
  } else if (schema.format === 'byte' && !base64.test(value.replace(/[\r\n]/g, ''))) {
    errors.push({ field: path, message: `Invalid value: ${show(value)}: must be base64-encoded` });
  }
}

function checkNumber(schema: OpenApiSchema, value: number, path: string, errors: FieldError[]): void {
  if (schema.enum && !schema.enum.includes(value)) errors.push(unsupported(path, value, schema.enum));
  if (schema.minimum !== undefined && value < schema.minimum) {
    errors.push({ field: path, message: `Invalid value: ${value}: should be greater than or equal to ${schema.minimum}` });
  }
  if (schema.maximum !== undefined && value > schema.maximum) {
    errors.push({ field: path, message: `Invalid value: ${value}: should be less than or equal to ${schema.maximum}` });
  }
}

function unsupported(field: string, value: unknown, supported: readonly unknown[]): FieldError {
  const message =
    value === undefined || value === null
      ? `Required value: supported values: ${supported.map(show).join(', ')}`
      : `Unsupported value ${show(value)}: supported values: ${supported.map(show).join(', ')}`;
  return { field, message };
}

function typeError(field: string, value: unknown, type: string): FieldError {
  return { field, message: `Invalid value: ${show(value)}: must be of type ${type}` };
}

/** A value as an error message shows it: JSON, cut short so a 500 KiB string never lands in a message. */
function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
