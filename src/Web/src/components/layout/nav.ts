import { BarChart3, CalendarClock, Clapperboard, FolderOpen, LayoutDashboard, LayoutTemplate, PlusCircle, Settings, type LucideIcon } from 'lucide-react';

export type NavItem = { to: string; label: string; icon: LucideIcon; placeholder?: boolean };

/** The sidebar. Entries marked placeholder are routes another branch fills in (see src/pages/Placeholder.tsx). */
export const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', icon: LayoutDashboard },
  { to: '/create', label: 'Create', icon: PlusCircle },
  { to: '/library', label: 'Library', icon: Clapperboard },
  { to: '/assets', label: 'Assets', icon: FolderOpen },
  { to: '/templates', label: 'Templates', icon: LayoutTemplate, placeholder: true },
  { to: '/schedules', label: 'Schedules', icon: CalendarClock, placeholder: true },
  { to: '/billing', label: 'Usage & billing', icon: BarChart3, placeholder: true },
  { to: '/settings', label: 'Settings', icon: Settings, placeholder: true },
];
