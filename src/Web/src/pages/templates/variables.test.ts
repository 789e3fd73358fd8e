import { describe, expect, it } from 'vitest';
import { initialValues, placeholders, toVariables, variableFields, variablesFieldMap } from './variables';

const graph = {
  nodes: [
    { id: 'script', params: { prompt: 'A video about {{topic}} in {{ lang }}', n: 3 } },
    { id: 'tts', params: { voice: '{{voice}}', extra: ['{{topic}}'] } },
    { id: 'render', params: null },
  ],
};

describe('variableFields', () => {
  it('types declared variables by their defaults and adds undeclared placeholders as required', () => {
    const fields = variableFields({ topic: 'cats', duration: 30, subtitles: true, tags: ['a'], lang: 'en' }, graph);
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['topic', 'text', false],
      ['duration', 'number', false],
      ['subtitles', 'boolean', false],
      ['tags', 'json', false],
      ['lang', 'text', false],
      ['voice', 'text', true],
    ]);
    expect(fields[0].usedBy).toEqual(['script', 'tts']);
  });

  it('reads placeholders with spaces and ignores nodes without params', () => {
    expect([...placeholders(graph).keys()]).toEqual(['topic', 'lang', 'voice']);
    expect(variableFields(null, undefined)).toEqual([]);
  });

  it('uses a long text area for long defaults', () => {
    expect(variableFields({ script: 'x'.repeat(100) })[0].kind).toBe('longtext');
  });
});

describe('initialValues / toVariables', () => {
  const fields = variableFields({ topic: 'cats', duration: 30, subtitles: true, tags: ['a'] }, { nodes: [{ id: 'n', params: { v: '{{voice}}' } }] });

  it('prefills defaults, overridden by saved values', () => {
    expect(initialValues(fields)).toEqual(['cats', '30', true, '[\n  "a"\n]', '']);
    expect(initialValues(fields, { topic: 'dogs', voice: 'nova' })).toEqual(['dogs', '30', true, '[\n  "a"\n]', 'nova']);
  });

  it('sends only what differs from the defaults, typed', () => {
    const { variables, errors } = toVariables(fields, ['dogs', '45', true, '["a"]', 'nova']);
    expect(errors).toEqual({});
    expect(variables).toEqual({ topic: 'dogs', duration: 45, voice: 'nova' });
    expect(toVariables(fields, ['cats', '30', false, '["a"]', 'nova'], true).variables).toEqual({ topic: 'cats', duration: 30, subtitles: false, tags: ['a'], voice: 'nova' });
  });

  it('reports a missing required value, a bad number and bad JSON by field index', () => {
    expect(toVariables(fields, ['cats', 'abc', true, '{oops', '']).errors).toEqual({ 1: 'Enter a number', 3: 'Enter valid JSON', 4: 'Required' });
  });

  it('maps the API error fields of variables to form fields', () => {
    expect(variablesFieldMap(fields)['variables.voice']).toBe('vars.4');
  });
});
