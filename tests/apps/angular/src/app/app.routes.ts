import { Routes } from '@angular/router';
import { Home } from './home';

export const routes: Routes = [
  { path: '', component: Home },
  { path: 'reports', loadComponent: () => import('./reports/reports').then((m) => m.Reports) },
];
