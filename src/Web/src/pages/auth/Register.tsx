import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { useAuth } from '@/auth/AuthContext';
import { applyProblemToForm } from '@/api/problem';
import { Alert, Button, FormField, Input } from '@/components/ui';
import { AuthLayout } from './AuthLayout';
import { safeNext } from './SignIn';

const schema = z.object({
  name: z.string().trim().min(1, 'Enter your name'),
  email: z.string().trim().min(1, 'Enter your email address').email('Enter a valid email address'),
  password: z.string().min(10, 'Use at least 10 characters').max(200, 'Use at most 200 characters'),
});
type Values = z.infer<typeof schema>;

export default function Register() {
  const { register: signUp, status } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<Values>({ resolver: zodResolver(schema), defaultValues: { name: '', email: '', password: '' } });
  const { errors, isSubmitting } = form.formState;

  if (status === 'authenticated' && !isSubmitting) return <Navigate to={next} replace />;

  const onSubmit = form.handleSubmit(async (values) => {
    setFormError(null);
    try {
      await signUp(values);
      navigate(next, { replace: true });
    } catch (e) {
      setFormError(applyProblemToForm(e, form.setError, ['name', 'email', 'password']).message);
    }
  });

  return (
    <AuthLayout
      title="Create your account"
      description="Start making short videos from a prompt, your clips or AI media."
      footer={
        <>
          Already have an account? <Link className="font-medium text-accent-600 hover:underline" to="/sign-in">Sign in</Link>
        </>
      }
    >
      <form onSubmit={onSubmit} noValidate className="space-y-4">
        {formError && <Alert>{formError}</Alert>}
        <FormField label="Name" error={errors.name?.message}>
          <Input autoComplete="name" autoFocus {...form.register('name')} />
        </FormField>
        <FormField label="Email" error={errors.email?.message}>
          <Input type="email" autoComplete="email" {...form.register('email')} />
        </FormField>
        <FormField label="Password" hint="At least 10 characters." error={errors.password?.message}>
          <Input type="password" autoComplete="new-password" {...form.register('password')} />
        </FormField>
        <Button type="submit" className="w-full" loading={isSubmitting}>
          Create account
        </Button>
      </form>
    </AuthLayout>
  );
}
