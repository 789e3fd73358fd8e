import type { FieldError, UseFormRegister } from 'react-hook-form';
import { FormField, Input, Textarea } from '@/components/ui';
import { Checkbox } from '@/components/ui/checkbox';
import { humanize } from '@/lib/format';
import type { VarField } from './variables';

/** The inputs of a workflow's variables, registered as `vars.<index>` of the surrounding form. */
export function VariablesFields({
  fields,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  register,
  errors,
}: {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  register: UseFormRegister<any>;
  fields: VarField[];
  errors?: (FieldError | undefined)[];
}) {
  if (fields.length === 0) return <p className="text-sm text-neutral-500">This workflow declares no variables: it runs as saved.</p>;
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      {fields.map((f, i) => {
        const name = `vars.${i}`;
        const hint = [
          f.required ? 'Required: no default' : f.kind === 'json' ? 'JSON' : undefined,
          f.usedBy.length ? `used by ${f.usedBy.join(', ')}` : undefined,
        ]
          .filter(Boolean)
          .join(' · ');
        const label = (
          <>
            {humanize(f.name)} <code className="ml-1 text-xs font-normal text-neutral-500">{f.name}</code>
          </>
        );
        if (f.kind === 'boolean') return <Checkbox key={f.name} label={label} hint={hint || undefined} {...register(name)} className="sm:col-span-2" />;
        const wide = f.kind === 'longtext' || f.kind === 'json';
        return (
          <FormField key={f.name} label={label} hint={hint || undefined} error={errors?.[i]?.message} className={wide ? 'sm:col-span-2' : undefined}>
            {wide ? (
              <Textarea rows={f.kind === 'json' ? 5 : 3} className={f.kind === 'json' ? 'font-mono text-xs' : undefined} {...register(name)} />
            ) : (
              <Input type={f.kind === 'number' ? 'number' : 'text'} step="any" {...register(name)} />
            )}
          </FormField>
        );
      })}
    </div>
  );
}
