import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '@/api/client';
import { applyProblemToForm, unwrap } from '@/api/problem';
import { Alert, Button, FormField, Input } from '@/components/ui';
import { AuthLayout } from './AuthLayout';

const schema = z.object({ email: z.string().trim().min(1, 'Enter your email address').email('Enter a valid email address') });
type Values = z.infer<typeof schema>;

export default function ForgotPassword() {
  const [formError, setFormError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { email: '' } });
  const { errors, isSubmitting } = form.formState;
  const onSubmit = form.handleSubmit(async ({ email }) => {
    setFormError(null);
    try {
      unwrap(await api.POST('/v1/auth/password-reset', { body: { email } }));
      setSentTo(email);
    } catch (e) {
      setFormError(applyProblemToForm(e, form.setError, ['email']).message);
    }
  });
  return (
    <AuthLayout
      title="Reset your password"
      description="We will email you a link to choose a new password."
      footer={<Link className="font-medium text-accent-600 hover:underline" to="/sign-in">Back to sign in</Link>}
    >
      {sentTo ? (
        <Alert tone="success" title="Check your inbox">
          If an account exists for {sentTo}, a reset link is on its way.
        </Alert>
      ) : (
        <form onSubmit={onSubmit} noValidate className="space-y-4">
          {formError && <Alert>{formError}</Alert>}
          <FormField label="Email" error={errors.email?.message}>
            <Input type="email" autoComplete="email" autoFocus {...form.register('email')} />
          </FormField>
          <Button type="submit" className="w-full" loading={isSubmitting}>
            Send reset link
          </Button>
        </form>
      )}
    </AuthLayout>
  );
}
