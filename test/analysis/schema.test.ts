// The JSON report matches its documented schema (src/analysis/report.schema.json). A small
// validator for the subset the schema uses: type, required, properties, items, enum, const,
// $ref, allOf, additionalProperties.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeTranscript } from '../../src/analysis/index.ts';
import { readShared, repoRoot } from '../vmcore/parse/helpers.ts';

type Schema = Record<string, unknown>;
const root = JSON.parse(
  readFileSync(path.join(repoRoot, 'src/analysis/report.schema.json'), 'utf8'),
) as Schema;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function validate(v: unknown, s: Schema, at: string, errors: string[]): void {
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/$defs/', '');
    validate(v, (root.$defs as Record<string, Schema>)[name]!, at, errors);
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) validate(v, sub, at, errors);
  if (s.const !== undefined && v !== s.const) errors.push(`${at}: expected ${String(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.includes(v as never)) errors.push(`${at}: ${String(v)} not in enum`);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    const t = typeOf(v);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number')))
      errors.push(`${at}: ${t} is not ${types.join('|')}`);
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of (s.required as string[] | undefined) ?? [])
      if (!(k in o)) errors.push(`${at}: missing ${k}`);
    const props = (s.properties as Record<string, Schema> | undefined) ?? {};
    for (const [k, sub] of Object.entries(props)) if (k in o) validate(o[k], sub, `${at}.${k}`, errors);
    if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      for (const [k, x] of Object.entries(o))
        if (!(k in props)) validate(x, s.additionalProperties as Schema, `${at}.${k}`, errors);
    }
  }
  if (Array.isArray(v) && s.items) {
    v.forEach((x, i) => {
      validate(x, s.items as Schema, `${at}[${i}]`, errors);
    });
  }
}

describe('report schema', () => {
  it('the seed report validates', async () => {
    const r = await analyzeTranscript(readShared('seed/crash-session.txt'), { kernel: '4.19' });
    const errors: string[] = [];
    validate(JSON.parse(JSON.stringify(r)), root, '$', errors);
    expect(errors).toEqual([]);
  });

  it('the validator catches a broken report', async () => {
    const r = JSON.parse(
      JSON.stringify(await analyzeTranscript(readShared('seed/crash-session.txt'), { kernel: '4.19' })),
    );
    delete r.frames[0].arguments[0].derivation;
    r.searches[0].hits[0].class = 'somewhere';
    const errors: string[] = [];
    validate(r, root, '$', errors);
    expect(errors).toEqual([
      '$.frames[0].arguments[0]: missing derivation',
      '$.searches[0].hits[0].class: somewhere not in enum',
    ]);
  });
});
