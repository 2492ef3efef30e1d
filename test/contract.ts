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
const validators = new Map<string, ValidateFunction>();

const operation = openapi.paths['/api/organization'].post;

/** The response schema the document declares for this status (the 400 body stands for every error). */
function schemaFor(status: number) {
  const declared = operation.responses[String(status)] ?? operation.responses['400'];
  const ref: string = declared.content['application/json'].schema.$ref;
  const name = ref.replace('#/components/schemas/', '');
  if (!validators.has(name)) validators.set(name, ajv.compile(openapi.components.schemas[name]));
  return validators.get(name)!;
}

export const ORGANIZATION_KEYS = ['id', 'name', 'created_at', 'updated_at', 'registerable', 'deleted', 'partner_configuration'];

/** Asserts status, JSON content type and that the body fits the contract's schema; returns the body. */
export async function expectContractResponse(response: Response, status: number): Promise<any> {
  const text = await response.text();
  expect({ status: response.status, body: text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text);
  const validate = schemaFor(status);
  expect(validate(body) ? [] : validate.errors).toEqual([]);
  if (status === 200) {
    expect(Object.keys(body)).toEqual(ORGANIZATION_KEYS);
  } else {
    expect(Object.keys(body)).toEqual(['message']);
  }
  return body;
}
