import { BarChart3, CalendarClock, Clapperboard, FolderOpen, GalleryHorizontal, LayoutDashboard, LayoutTemplate, Link2, PlusCircle, Send, Settings, TrendingUp, type LucideIcon } from 'lucide-react';

export type NavItem = { to: string; label: string; icon: LucideIcon };

/** The sidebar. */
export const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', icon: LayoutDashboard },
  { to: '/create', label: 'Create', icon: PlusCircle },
  { to: '/library', label: 'Library', icon: Clapperboard },
  { to: '/storyboards', label: 'Storyboards', icon: GalleryHorizontal },
  { to: '/assets', label: 'Assets', icon: FolderOpen },
  { to: '/templates', label: 'Templates', icon: LayoutTemplate },
  { to: '/schedules', label: 'Schedules', icon: CalendarClock },
  { to: '/publications', label: 'Publications', icon: Send },
  { to: '/shares', label: 'Share links', icon: Link2 },
  { to: '/analytics', label: 'Analytics', icon: TrendingUp },
  { to: '/billing', label: 'Usage & billing', icon: BarChart3 },
  { to: '/settings', label: 'Settings', icon: Settings },
];
