import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';

declare const APP_VERSION: string;

// Eager route: compiled into the initial main-XXXX.js chunk.
@Component({
  selector: 'app-home',
  imports: [RouterLink],
  template: `
    <h1 id="home">{{ label }}</h1>
    <a id="to-reports" routerLink="/reports">Reports</a>
  `,
})
export class Home {
  protected readonly label = `Home build ${APP_VERSION}`;
}
