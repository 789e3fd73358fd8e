import { useMutation } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { useAuth } from '@/auth/AuthContext';
import { Alert, Button, Loading } from '@/components/ui';
import { AuthLayout } from './AuthLayout';

/** The mailed invitation: /accept-invitation?token=… (signed-out visitors sign in or register first, then return). */
export default function AcceptInvitation() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const { status, me, switchOrg } = useAuth();
  const navigate = useNavigate();
  const here = `/accept-invitation?token=${encodeURIComponent(token ?? '')}`;
  const accept = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/invitations/{token}/accept', { params: { path: { token: token! } } })),
    onSuccess: async (membership) => {
      await switchOrg(membership.org_id);
    },
  });

  if (!token) return <AuthLayout title="Join an organization"><Alert>This link has no token. Open the link from the invitation email again.</Alert></AuthLayout>;
  if (status === 'loading') return <AuthLayout title="Join an organization"><Loading /></AuthLayout>;

  if (status === 'anonymous') {
    return (
      <AuthLayout title="Join an organization" description="Sign in, or create an account with the invited address, to accept the invitation.">
        <div className="flex flex-col gap-2">
          <Button asChild><Link to={`/sign-in?next=${encodeURIComponent(here)}`}>Sign in to accept</Link></Button>
          <Button asChild variant="secondary"><Link to={`/register?next=${encodeURIComponent(here)}`}>Create an account</Link></Button>
        </div>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Join an organization" description={`You are signed in as ${me?.user.email}.`}>
      {accept.isSuccess ? (
        <div className="space-y-4">
          <Alert tone="success" title={`You joined ${accept.data.org_name}`}>Your role: {accept.data.role}.</Alert>
          <Button className="w-full" onClick={() => navigate('/')}>Open the dashboard</Button>
        </div>
      ) : (
        <div className="space-y-4">
          {accept.isError && <Alert title="The invitation could not be accepted">{errorMessage(accept.error)}</Alert>}
          <Button className="w-full" loading={accept.isPending} onClick={() => accept.mutate()}>
            Accept invitation
          </Button>
        </div>
      )}
    </AuthLayout>
  );
}
