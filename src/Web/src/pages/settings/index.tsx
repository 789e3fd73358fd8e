// Settings: members and invitations, API keys, webhooks (with their deliveries), connected accounts. Each section is a sub-route.
import { lazy, Suspense } from 'react';
import { Navigate, NavLink, Route, Routes } from 'react-router';
import { PageHeader } from '@/components/ui';
import { Loading } from '@/components/ui/feedback';
import { cn } from '@/lib/cn';
import Members from './Members';
import ApiKeys from './ApiKeys';
import Webhooks from './Webhooks';
import Integrations from './Integrations';

const WebhookDetail = lazy(() => import('./WebhookDetail'));

const SECTIONS = [
  { to: 'members', label: 'Members' },
  { to: 'api-keys', label: 'API keys' },
  { to: 'webhooks', label: 'Webhooks' },
  { to: 'integrations', label: 'Connected accounts' },
];

function SectionNav() {
  return (
    // Two by two on phones, where the four tabs in a row would run off the screen; a row from the small breakpoint up.
    <nav aria-label="Settings sections" className="mb-6">
      <ul className="grid grid-cols-2 gap-1 rounded-lg bg-neutral-100 p-1 sm:inline-flex">
        {SECTIONS.map((s) => (
          <li key={s.to}>
            <NavLink
              to={`/settings/${s.to}`}
              className={({ isActive }) =>
                cn(
                  'block whitespace-nowrap rounded-md px-3 py-1.5 text-center text-sm font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500',
                  isActive ? 'bg-white text-neutral-900 shadow-sm' : 'text-neutral-600 hover:text-neutral-900',
                )
              }
            >
              {s.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export default function Settings() {
  return (
    <>
      <PageHeader title="Settings" description="Your organization's members, API keys, webhooks and connected accounts." />
      <SectionNav />
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route index element={<Navigate to="members" replace />} />
          <Route path="members" element={<Members />} />
          <Route path="api-keys" element={<ApiKeys />} />
          <Route path="webhooks" element={<Webhooks />} />
          <Route path="webhooks/:id" element={<WebhookDetail />} />
          <Route path="integrations" element={<Integrations />} />
          <Route path="*" element={<Navigate to="members" replace />} />
        </Routes>
      </Suspense>
    </>
  );
}
