// Validates responses against the vendored OpenAPI document of the legacy contract (ajv + formats).
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const openapi = JSON.parse(readFileSync(new URL('../rest-adapter/openapi.json', import.meta.url), 'utf8'));

const ajv = new Ajv({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addKeyword('example');
// The document's component schemas as one schema of definitions, so their $refs resolve.
ajv.addSchema({ $id: 'openapi', $defs: JSON.parse(JSON.stringify(openapi.components.schemas).replaceAll('#/components/schemas/', '#/$defs/')) });
const validators = new Map<string, ValidateFunction>();

/** The response schema the document declares for this operation and status (its 400 body stands for every error). */
function schemaFor(method: string, path: string, status: number): ValidateFunction {
  const operation = openapi.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${path} is not in rest-adapter/openapi.json`);
  const declared = operation.responses[String(status)] ?? operation.responses['400'];
  const schema = JSON.parse(JSON.stringify(declared.content['application/json'].schema).replaceAll('#/components/schemas/', 'openapi#/$defs/'));
  const key = `${method} ${path} ${status}`;
  if (!validators.has(key)) validators.set(key, ajv.compile(schema));
  return validators.get(key)!;
}

export const ORGANIZATION_KEYS = ['id', 'name', 'created_at', 'updated_at', 'registerable', 'deleted', 'partner_configuration'];

/** Asserts status, JSON content type and that the body fits the contract's schema for `POST /api/organization`; returns the body. */
export async function expectContractResponse(response: Response, status: number): Promise<any> {
  const body = await expectDocumented(response, 'POST', '/api/organization', status);
  if (status === 200) {
    expect(Object.keys(body)).toEqual(ORGANIZATION_KEYS);
  } else {
    expect(Object.keys(body)).toEqual(['message']);
  }
  return body;
}

/**
 * Asserts that the response is one the document declares for `method path` (a path template as in
 * openapi.json): status, and for a body its JSON content type and schema (204: no body). Returns the body.
 */
export async function expectDocumented(response: Response, method: string, path: string, status: number): Promise<any> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  const operation = openapi.paths[path]?.[method.toLowerCase()];
  expect(operation, `${method} ${path} is documented`).toBeDefined();
  if (status === 204) {
    expect(operation.responses['204']).toBeDefined();
    expect(text).toBe('');
    return undefined;
  }
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text);
  const validate = schemaFor(method, path, status);
  expect(validate(body) ? [] : validate.errors).toEqual([]);
  if (status >= 400) expect(Object.keys(body)).toEqual(['message']);
  return body;
}
