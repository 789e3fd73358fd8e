import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { MailPlus, Trash2, Users, X } from 'lucide-react';
import { api } from '@/api/client';
import { applyProblemToForm, errorMessage, unwrap } from '@/api/problem';
import type { Schemas } from '@/api/types';
import { useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, FormField, Input, Select, Skeleton } from '@/components/ui';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/ui/toast';
import { formatDateTime, timeAgo } from '@/lib/format';
import { assignableRoles, invitableRoles, inviteSchema, rank, ROLE_HINTS, type InviteValues } from './model';

type Member = Schemas['MemberDto'];
type Invitation = Schemas['InvitationDto'];

const membersKey = ['org', 'members'] as const;
const invitationsKey = ['org', 'invitations'] as const;

function InviteForm({ roles }: { roles: ReturnType<typeof invitableRoles> }) {
  const qc = useQueryClient();
  const toast = useToast();
  const form = useForm<InviteValues>({ resolver: zodResolver(inviteSchema), defaultValues: { email: '', role: roles.includes('editor') ? 'editor' : 'viewer' } });
  const [formError, setFormError] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: async (v: InviteValues) => unwrap(await api.POST('/v1/org/members', { body: { email: v.email.trim(), role: v.role } })),
    onSuccess: (inv) => {
      toast({ title: 'Invitation sent', description: `${inv.email} is invited as ${inv.role}.`, tone: 'success' });
      form.reset({ email: '', role: form.getValues('role') });
      void qc.invalidateQueries({ queryKey: invitationsKey });
    },
    onError: (e) => {
      const { message } = applyProblemToForm(e, form.setError, ['email', 'role']);
      setFormError(message);
    },
  });
  const { errors } = form.formState;
  return (
    <form
      noValidate
      onSubmit={form.handleSubmit((v) => {
        setFormError(null);
        invite.mutate(v);
      })}
      className="grid gap-3 sm:grid-cols-[1fr_12rem_auto] sm:items-start"
      aria-label="Invite a member"
    >
      <FormField label="Email" error={errors.email?.message}>
        <Input type="email" autoComplete="off" placeholder="name@example.com" {...form.register('email')} />
      </FormField>
      <FormField label="Role" error={errors.role?.message}>
        <Select {...form.register('role')}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </Select>
      </FormField>
      <Button type="submit" loading={invite.isPending} className="sm:mt-6">
        <MailPlus aria-hidden="true" /> Invite
      </Button>
      {formError && <Alert className="sm:col-span-3">{formError}</Alert>}
    </form>
  );
}

function MemberRow({ member, callerRole, self }: { member: Member; callerRole: string; self: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const { reloadMe } = useAuth();
  const [removing, setRemoving] = useState(false);
  const roles = self ? [] : assignableRoles(callerRole, member.role);
  const change = useMutation({
    mutationFn: async (role: string) => unwrap(await api.PATCH('/v1/org/members/{memberId}', { params: { path: { memberId: member.id } }, body: { role } })),
    onSuccess: (m) => {
      toast({ title: 'Role changed', description: `${m.name || m.email} is now ${m.role}.`, tone: 'success' });
      void qc.invalidateQueries({ queryKey: membersKey });
      if (self) void reloadMe();
    },
    onError: (e) => toast({ title: 'Could not change the role', description: errorMessage(e), tone: 'error' }),
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/org/members/{memberId}', { params: { path: { memberId: member.id } } })),
    onSuccess: () => {
      toast({ title: 'Member removed', description: member.email });
      setRemoving(false);
      void qc.invalidateQueries({ queryKey: membersKey });
    },
  });
  const who = member.name || member.email;
  return (
    <li className="flex flex-col gap-3 py-3 sm:flex-row sm:items-center">
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-medium">
          {who} {self && <Badge tone="accent">you</Badge>}
        </p>
        <p className="truncate text-xs text-neutral-500">
          {member.email} · joined {timeAgo(member.joined_at)}
        </p>
      </div>
      {roles.length > 0 ? (
        <div className="flex items-center gap-2">
          <Select
            aria-label={`Role of ${who}`}
            value={member.role}
            disabled={change.isPending}
            onChange={(e) => change.mutate(e.target.value)}
            className="w-32"
          >
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </Select>
          <Button variant="ghost" size="icon" aria-label={`Remove ${who}`} onClick={() => setRemoving(true)}>
            <Trash2 aria-hidden="true" />
          </Button>
        </div>
      ) : (
        <Badge tone={member.role === 'owner' ? 'accent' : 'neutral'} className="self-start sm:self-auto" title={ROLE_HINTS[member.role as keyof typeof ROLE_HINTS]}>
          {member.role}
        </Badge>
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${who}?`}
          description="They lose access to this organization at once. Their jobs and videos stay."
          confirmLabel="Remove member"
          pending={remove.isPending}
          error={remove.error}
          onConfirm={() => remove.mutate()}
          onClose={() => {
            setRemoving(false);
            remove.reset();
          }}
        />
      )}
    </li>
  );
}

function Invitations() {
  const qc = useQueryClient();
  const toast = useToast();
  const [withdrawing, setWithdrawing] = useState<Invitation | null>(null);
  const invitations = useQuery({
    queryKey: invitationsKey,
    queryFn: async () => unwrap(await api.GET('/v1/org/invitations', { params: { query: { limit: '100' } } })),
  });
  const withdraw = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE('/v1/org/invitations/{invitationId}', { params: { path: { invitationId: id } } })),
    onSuccess: () => {
      toast({ title: 'Invitation withdrawn', description: withdrawing?.email });
      setWithdrawing(null);
      void qc.invalidateQueries({ queryKey: invitationsKey });
    },
  });
  const list = invitations.data?.data ?? [];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Pending invitations</CardTitle>
        <CardDescription>Invitations expire unless accepted; withdraw one to send it again.</CardDescription>
      </CardHeader>
      <CardContent>
        {invitations.isPending && <Skeleton className="h-16" />}
        {invitations.isError && <ErrorState error={invitations.error} onRetry={() => invitations.refetch()} />}
        {invitations.data && list.length === 0 && <p className="text-sm text-neutral-500">No pending invitations.</p>}
        {list.length > 0 && (
          <ul className="divide-y divide-neutral-100" aria-label="Pending invitations">
            {list.map((inv) => (
              <li key={inv.id} className="flex items-center gap-3 py-3">
                <div className="min-w-0 flex-1">
                  <p className="truncate text-sm font-medium">{inv.email}</p>
                  <p className="text-xs text-neutral-500">
                    {inv.role} · sent {timeAgo(inv.created_at)} · expires {formatDateTime(inv.expires_at)}
                  </p>
                </div>
                <Button variant="ghost" size="sm" aria-label={`Withdraw the invitation of ${inv.email}`} onClick={() => setWithdrawing(inv)}>
                  <X aria-hidden="true" /> Withdraw
                </Button>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
      {withdrawing && (
        <ConfirmDialog
          title="Withdraw this invitation?"
          description={`The link mailed to ${withdrawing.email} stops working.`}
          confirmLabel="Withdraw"
          pending={withdraw.isPending}
          error={withdraw.error}
          onConfirm={() => withdraw.mutate(withdrawing.id)}
          onClose={() => {
            setWithdrawing(null);
            withdraw.reset();
          }}
        />
      )}
    </Card>
  );
}

export default function Members() {
  const { me } = useAuth();
  const callerRole = me?.role ?? 'viewer';
  const isAdmin = rank(callerRole) >= rank('admin');
  const members = useQuery({
    queryKey: membersKey,
    queryFn: async () => unwrap(await api.GET('/v1/org/members', { params: { query: { limit: '100' } } })),
  });
  const list = members.data?.data ?? [];
  return (
    <div className="space-y-6">
      {isAdmin && (
        <Card>
          <CardHeader>
            <CardTitle>Invite someone</CardTitle>
            <CardDescription>They get an email with a link to join {me?.org.name ?? 'this organization'}.</CardDescription>
          </CardHeader>
          <CardContent>
            {me?.user.email_verified === false ? (
              <Alert tone="warning">Verify your email address before inviting members.</Alert>
            ) : (
              <InviteForm roles={invitableRoles(callerRole)} />
            )}
          </CardContent>
        </Card>
      )}
      <Card>
        <CardHeader>
          <CardTitle>Members</CardTitle>
          <CardDescription>
            {isAdmin ? 'Change roles or remove members. Only owners grant or take the owner role.' : `You are ${callerRole === 'viewer' ? 'a viewer' : `an ${callerRole}`}: ask an admin to change roles or invite people.`}
          </CardDescription>
        </CardHeader>
        <CardContent>
          {members.isPending && (
            <div className="space-y-2">
              <Skeleton className="h-12" />
              <Skeleton className="h-12" />
            </div>
          )}
          {members.isError && <ErrorState error={members.error} onRetry={() => members.refetch()} />}
          {members.data && list.length === 0 && <EmptyState title="No members" icon={<Users className="size-8" />} />}
          {list.length > 0 && (
            <ul className="divide-y divide-neutral-100" aria-label="Members">
              {list.map((m) => (
                <MemberRow key={m.id} member={m} callerRole={callerRole} self={m.user_id === me?.user.id} />
              ))}
            </ul>
          )}
        </CardContent>
      </Card>
      {isAdmin && <Invitations />}
    </div>
  );
}
