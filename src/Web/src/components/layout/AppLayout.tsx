import { useState, type ReactNode } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { Building2, Check, ChevronsUpDown, LogOut, Menu, Play, UserRound } from 'lucide-react';
import { Dialog, DialogContent } from '@/components/ui/dialog';
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from '@/components/ui/dropdown-menu';
import { Button } from '@/components/ui/button';
import { useAuth } from '@/auth/AuthContext';
import { cn } from '@/lib/cn';
import { NAV } from './nav';
import { VerifyEmailBanner } from './VerifyEmailBanner';

function Brand() {
  return (
    <div className="flex items-center gap-2 px-2 text-base font-semibold tracking-tight">
      <span className="flex size-7 items-center justify-center rounded-lg bg-accent-600 text-white" aria-hidden="true">
        <Play className="size-4 fill-current" />
      </span>
      FentaWeb
    </div>
  );
}

function NavLinks({ onNavigate }: { onNavigate?: () => void }) {
  return (
    <nav aria-label="Main" className="flex flex-col gap-0.5">
      {NAV.map(({ to, label, icon: Icon }) => (
        <NavLink
          key={to}
          to={to}
          end={to === '/'}
          onClick={onNavigate}
          className={({ isActive }) =>
            cn(
              'flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium text-neutral-600 hover:bg-neutral-100 hover:text-neutral-900 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500',
              isActive && 'bg-accent-50 text-accent-700 hover:bg-accent-50 hover:text-accent-700',
            )
          }
        >
          <Icon className="size-4" aria-hidden="true" />
          <span className="flex-1">{label}</span>
        </NavLink>
      ))}
    </nav>
  );
}

export function OrgSwitcher({ className }: { className?: string }) {
  const { me, orgId, switchOrg } = useAuth();
  if (!me) return null;
  const current = me.memberships.find((m) => m.org_id === orgId) ?? { org_id: me.org.id, org_name: me.org.name, role: me.role };
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <button
          type="button"
          aria-label={`Organization: ${current.org_name}. Switch organization`}
          className={cn('flex w-full items-center gap-2 rounded-md border border-neutral-200 bg-white px-2.5 py-2 text-left text-sm shadow-sm hover:bg-neutral-50 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500', className)}
        >
          <Building2 className="size-4 shrink-0 text-neutral-500" aria-hidden="true" />
          <span className="min-w-0 flex-1">
            <span className="block truncate font-medium">{current.org_name}</span>
            <span className="block text-xs capitalize text-neutral-500">{current.role}</span>
          </span>
          <ChevronsUpDown className="size-4 shrink-0 text-neutral-400" aria-hidden="true" />
        </button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="w-60">
        <DropdownMenuLabel>Organizations</DropdownMenuLabel>
        {me.memberships.map((m) => (
          <DropdownMenuItem key={m.org_id} onSelect={() => m.org_id !== current.org_id && void switchOrg(m.org_id)}>
            <span className="min-w-0 flex-1 truncate">{m.org_name}</span>
            <span className="text-xs capitalize text-neutral-500">{m.role}</span>
            {m.org_id === current.org_id && <Check aria-label="current" />}
          </DropdownMenuItem>
        ))}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}

export function UserMenu() {
  const { me, logout } = useAuth();
  const navigate = useNavigate();
  if (!me) return null;
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="icon" aria-label={`Account: ${me.user.name || me.user.email}`} className="rounded-full bg-neutral-100">
          <UserRound aria-hidden="true" />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent>
        <DropdownMenuLabel>
          <span className="block truncate text-sm font-medium text-neutral-900">{me.user.name}</span>
          <span className="block truncate">{me.user.email}</span>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => navigate('/settings')}>Settings</DropdownMenuItem>
        <DropdownMenuItem
          onSelect={async () => {
            await logout();
            navigate('/sign-in', { replace: true });
          }}
        >
          <LogOut aria-hidden="true" /> Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}

export function AppLayout({ children }: { children?: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="min-h-dvh lg:grid lg:grid-cols-[15rem_1fr]">
      <aside className="hidden border-r border-neutral-200 bg-white lg:block">
        <div className="sticky top-0 flex h-dvh flex-col gap-4 p-3">
          <div className="pt-2">
            <Brand />
          </div>
          <OrgSwitcher />
          <NavLinks />
        </div>
      </aside>
      <div className="flex min-w-0 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b border-neutral-200 bg-white/90 px-3 backdrop-blur sm:px-6">
          <Dialog open={open} onOpenChange={setOpen}>
            <Button variant="ghost" size="icon" className="lg:hidden" aria-label="Open menu" onClick={() => setOpen(true)}>
              <Menu aria-hidden="true" />
            </Button>
            <DialogContent side="left" title="Menu">
              <div className="flex flex-col gap-4 pt-1">
                <Brand />
                <OrgSwitcher />
                <NavLinks onNavigate={() => setOpen(false)} />
              </div>
            </DialogContent>
          </Dialog>
          <div className="lg:hidden">
            <Brand />
          </div>
          <div className="flex-1" />
          <UserMenu />
        </header>
        <main id="main" className="mx-auto w-full max-w-6xl flex-1 px-4 py-6 sm:px-6 lg:py-8">
          <VerifyEmailBanner />
          {children ?? <Outlet />}
        </main>
      </div>
    </div>
  );
}
