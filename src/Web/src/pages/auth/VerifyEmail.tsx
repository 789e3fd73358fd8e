import { useEffect, useRef } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { CheckCircle2 } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { useAuth } from '@/auth/AuthContext';
import { Alert, Button, Loading } from '@/components/ui';
import { AuthLayout } from './AuthLayout';

/** The mailed link: /verify-email?token=… */
export default function VerifyEmail() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const { status, reloadMe } = useAuth();
  const verify = useMutation({
    mutationFn: async (t: string) => unwrap(await api.POST('/v1/auth/verify-email', { body: { token: t } })),
    onSuccess: () => {
      if (status === 'authenticated') void reloadMe();
    },
  });
  const started = useRef(false);
  useEffect(() => {
    if (token && !started.current) {
      started.current = true;
      verify.mutate(token);
    }
  }, [token, verify]);

  return (
    <AuthLayout title="Verify your email">
      {!token && <Alert>This link has no token. Open the link from the email again, or ask for a new one from the app.</Alert>}
      {verify.isPending && <Loading label="Verifying your address…" />}
      {verify.isError && (
        <Alert title="The address could not be verified">
          <p>{errorMessage(verify.error)}</p>
          <p className="mt-1">Links expire; sign in and use “Resend the link” to get a new one.</p>
        </Alert>
      )}
      {verify.isSuccess && (
        <div className="space-y-4">
          <p className="flex items-center gap-2 text-sm text-emerald-700" role="status">
            <CheckCircle2 className="size-5" aria-hidden="true" /> {verify.data.email} is verified.
          </p>
          <Button asChild className="w-full">
            <Link to={status === 'authenticated' ? '/' : '/sign-in'}>{status === 'authenticated' ? 'Go to the dashboard' : 'Sign in'}</Link>
          </Button>
        </div>
      )}
    </AuthLayout>
  );
}
