import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useForm } from 'react-hook-form';
import { initialValues, toVariables, variableFields, type VarValue } from './variables';
import { VariablesFields } from './VariablesFields';

const fields = variableFields({ topic: 'cats', duration: 30, subtitles: true }, { nodes: [{ id: 'tts', params: { voice: '{{voice}}' } }] });

function Harness({ onSubmit }: { onSubmit: (v: Record<string, unknown>) => void }) {
  const form = useForm<{ vars: VarValue[] }>({ defaultValues: { vars: initialValues(fields) } });
  return (
    <form onSubmit={form.handleSubmit((v) => onSubmit(toVariables(fields, v.vars).variables))}>
      <VariablesFields fields={fields} register={form.register} />
      <button type="submit">Run</button>
    </form>
  );
}

describe('VariablesFields', () => {
  it('labels every input by its variable and sends typed values', async () => {
    let sent: Record<string, unknown> = {};
    render(<Harness onSubmit={(v) => (sent = v)} />);
    expect(screen.getByLabelText(/Topic/)).toHaveValue('cats');
    expect(screen.getByLabelText(/Duration/)).toHaveValue(30);
    expect(screen.getByRole('checkbox', { name: /Subtitles/ })).toBeChecked();
    expect(screen.getByLabelText(/Voice/)).toHaveAccessibleDescription(/Required: no default · used by tts/);
    await userEvent.clear(screen.getByLabelText(/Duration/));
    await userEvent.type(screen.getByLabelText(/Duration/), '45');
    await userEvent.type(screen.getByLabelText(/Voice/), 'nova');
    await userEvent.click(screen.getByRole('checkbox', { name: /Subtitles/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(sent).toEqual({ duration: 45, subtitles: false, voice: 'nova' });
  });

  it('says when a workflow has no variables', () => {
    function Empty() {
      const form = useForm();
      return <VariablesFields fields={[]} register={form.register} />;
    }
    render(<Empty />);
    expect(screen.getByText(/declares no variables/)).toBeInTheDocument();
  });
});
