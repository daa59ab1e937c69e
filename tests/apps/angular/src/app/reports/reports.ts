import { Component } from '@angular/core';

declare const APP_VERSION: string;

// Lazy route (loadComponent): compiled into its own chunk-XXXX.js.
@Component({
  selector: 'app-reports',
  template: `<h1 id="reports">{{ label }}</h1>`,
})
export class Reports {
  protected readonly label = `Reports build ${APP_VERSION}`;
}
