import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '@/api/client';
import { applyProblemToForm, unwrap } from '@/api/problem';
import { Alert, Button, FormField, Input } from '@/components/ui';
import { AuthLayout } from './AuthLayout';

const schema = z
  .object({
    new_password: z.string().min(10, 'Use at least 10 characters').max(200, 'Use at most 200 characters'),
    confirm: z.string(),
  })
  .refine((v) => v.new_password === v.confirm, { path: ['confirm'], message: 'The passwords do not match' });
type Values = z.infer<typeof schema>;

/** The mailed link: /reset-password?token=… */
export default function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const [formError, setFormError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { new_password: '', confirm: '' } });
  const { errors, isSubmitting } = form.formState;
  const onSubmit = form.handleSubmit(async ({ new_password }) => {
    setFormError(null);
    try {
      unwrap(await api.POST('/v1/auth/password-reset/confirm', { body: { token, new_password } }));
      setDone(true);
    } catch (e) {
      const { unmatched, message } = applyProblemToForm(e, form.setError, ['new_password']);
      setFormError(unmatched.token ? `This link cannot be used: ${unmatched.token}. Ask for a new one.` : message);
    }
  });
  return (
    <AuthLayout title="Choose a new password" footer={<Link className="font-medium text-accent-600 hover:underline" to="/sign-in">Back to sign in</Link>}>
      {!token ? (
        <Alert>
          This link has no token. <Link className="underline" to="/forgot-password">Ask for a new link</Link>.
        </Alert>
      ) : done ? (
        <div className="space-y-4">
          <Alert tone="success" title="Password changed">Sign in with your new password.</Alert>
          <Button asChild className="w-full"><Link to="/sign-in">Sign in</Link></Button>
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate className="space-y-4">
          {formError && <Alert>{formError}</Alert>}
          <FormField label="New password" hint="At least 10 characters." error={errors.new_password?.message}>
            <Input type="password" autoComplete="new-password" autoFocus {...form.register('new_password')} />
          </FormField>
          <FormField label="Confirm new password" error={errors.confirm?.message}>
            <Input type="password" autoComplete="new-password" {...form.register('confirm')} />
          </FormField>
          <Button type="submit" className="w-full" loading={isSubmitting}>
            Change password
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
