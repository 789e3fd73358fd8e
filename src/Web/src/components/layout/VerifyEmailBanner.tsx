import { useMutation } from '@tanstack/react-query';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { useAuth } from '@/auth/AuthContext';
import { Alert } from '@/components/ui/feedback';
import { Button } from '@/components/ui/button';

/** Until the address is verified: a reminder with a button that mails the link again. */
export function VerifyEmailBanner() {
  const { me } = useAuth();
  const send = useMutation({ mutationFn: async () => unwrap(await api.POST('/v1/auth/verify-email/send')) });
  if (!me || me.user.email_verified) return null;
  return (
    <Alert tone="warning" className="mb-6" title="Verify your email address">
      <p>
        We sent a link to <strong>{me.user.email}</strong>. Some actions (inviting members, API keys) need a verified address.
      </p>
      <div className="mt-2 flex flex-wrap items-center gap-3">
        <Button size="sm" variant="secondary" loading={send.isPending} onClick={() => send.mutate()}>
          Resend the link
        </Button>
        {send.isSuccess && <span>Sent. Check your inbox.</span>}
        {send.isError && <span>{errorMessage(send.error)}</span>}
      </div>
    </Alert>
  );
}
