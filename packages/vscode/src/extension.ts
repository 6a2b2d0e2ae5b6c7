// The VS Code side: commands, the tree view, the webview and "go to source", wired to the plain
// modules (args, mw, model, location, webview), which hold the logic and are tested without VS Code.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UsageError, analyzeArgs, checkSelection, helpOffersHtml } from './args';
import { SourceLocation, parseLocation, resolveInWorkspace, toEditorPosition, formatLocation } from './location';
import { MwError, resolveMw, runMw } from './mw';
import { ReportError, ReportModel, TreeItemModel, parseReport } from './model';
import { prepareReportHtml, simpleReportHtml } from './webview';

interface Shown {
  model: ReportModel;
  title: string;
  /** mw's HTML page, when it wrote one. */
  html: string | null;
}

class ReportTree implements vscode.TreeDataProvider<TreeItemModel> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeItemModel[] = [];

  show(model: ReportModel): void {
    this.roots = model.roots;
    this.changed.fire();
  }

  getChildren(item?: TreeItemModel): TreeItemModel[] {
    return item ? item.children : this.roots;
  }

  getTreeItem(item: TreeItemModel): vscode.TreeItem {
    const state = item.children.length === 0
      ? vscode.TreeItemCollapsibleState.None
      : item.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
    const t = new vscode.TreeItem(item.label, state);
    t.description = item.description;
    t.tooltip = item.tooltip;
    if (item.icon) t.iconPath = new vscode.ThemeIcon(item.icon);
    if (item.location) {
      t.command = { command: 'memwatchdog.goToSource', title: 'Go to Source', arguments: [item.location] };
    }
    return t;
  }
}

function workspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

function nonce(): string {
  return crypto.randomBytes(18).toString('base64');
}

async function goToSource(loc: SourceLocation): Promise<void> {
  const file = resolveInWorkspace(loc.file, workspaceFolders());
  if (file === null) {
    void vscode.window.showWarningMessage(`MemWatchdog: ${formatLocation(loc)} is not a file in this workspace.`);
    return;
  }
  const p = toEditorPosition(loc);
  const pos = new vscode.Position(p.line, p.character);
  await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(pos, pos) });
}

export function activate(context: vscode.ExtensionContext): void {
  const tree = new ReportTree();
  const output = vscode.window.createOutputChannel('MemWatchdog');
  let shown: Shown | null = null;
  let panel: vscode.WebviewPanel | null = null;

  const showPanel = () => {
    if (!shown) {
      void vscode.window.showInformationMessage('MemWatchdog: analyze files or open a JSON report first.');
      return;
    }
    if (!panel) {
      panel = vscode.window.createWebviewPanel('memwatchdog.report', 'MemWatchdog', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [],
      });
      panel.onDidDispose(() => (panel = null), null, context.subscriptions);
      panel.webview.onDidReceiveMessage((m: { type?: string; target?: string }) => {
        const loc = m.type === 'open' && typeof m.target === 'string' ? parseLocation(m.target) : null;
        if (loc) void goToSource(loc);
      }, null, context.subscriptions);
    }
    panel.title = `MemWatchdog: ${shown.title}`;
    const n = nonce();
    panel.webview.html = shown.html !== null ? prepareReportHtml(shown.html, n) : simpleReportHtml(shown.model, shown.title, n);
    panel.reveal();
  };

  const display = (next: Shown) => {
    shown = next;
    tree.show(next.model);
    void vscode.commands.executeCommand('setContext', 'memwatchdog.hasReport', true);
    showPanel();
  };

  const fail = (e: unknown) => {
    if (e instanceof MwError && e.message === 'Cancelled.') return;
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof MwError && e.stderr) output.appendLine(e.stderr);
    void vscode.window.showErrorMessage(`MemWatchdog: ${message}`, ...(e instanceof MwError ? ['Show Output'] : []))
      .then((choice) => { if (choice) output.show(); });
  };

  const analyze = async (clicked?: vscode.Uri, selected?: vscode.Uri[]) => {
    try {
      let uris = selected && selected.length > 0 ? selected : clicked ? [clicked] : [];
      if (uris.length < 2) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: true,
          openLabel: 'Analyze',
          title: 'Two or three heap snapshots (base, target[, final]) or two heap profiles',
          filters: { 'Heap snapshots and profiles': ['heapsnapshot', 'heapprofile'] },
        });
        if (!picked) return;
        uris = picked;
      }
      const files = uris.map((u) => u.fsPath);
      checkSelection(files);
      const config = vscode.workspace.getConfiguration('memwatchdog');
      const mw = resolveMw(config.get<string>('mwPath'), process.env.PATH, workspaceFolders());
      const help = await runMw(mw, ['analyze', '--help']);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatchdog-'));
      const htmlFile = helpOffersHtml(help.stdout) ? path.join(dir, 'report.html') : undefined;
      const args = analyzeArgs(files, { top: config.get<number>('top'), htmlFile });
      output.appendLine(`$ ${mw} ${args.join(' ')}`);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MemWatchdog: analyzing ${files.length} files`, cancellable: true },
        (_progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return runMw(mw, args, abort.signal);
        },
      );
      if (result.stderr.trim()) output.appendLine(result.stderr.trim());
      const html = htmlFile ? fs.readFileSync(htmlFile, 'utf8') : null;
      fs.rmSync(dir, { recursive: true, force: true });
      display({ model: parseReport(result.stdout), title: files.map((f) => path.basename(f)).join(' → '), html });
    } catch (e) {
      fail(e);
    }
  };

  const openReport = async (clicked?: vscode.Uri) => {
    try {
      let uri = clicked;
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Open Report', filters: { 'mw analyze --json report': ['json'] } });
        if (!picked) return;
        uri = picked[0];
      }
      const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      display({ model: parseReport(text), title: path.basename(uri.fsPath), html: null });
    } catch (e) {
      fail(e instanceof ReportError || e instanceof UsageError ? new Error(`${clicked ? path.basename(clicked.fsPath) + ': ' : ''}${e.message}`) : e);
    }
  };

  context.subscriptions.push(
    output,
    vscode.window.registerTreeDataProvider('memwatchdog.report', tree),
    vscode.commands.registerCommand('memwatchdog.analyze', analyze),
    vscode.commands.registerCommand('memwatchdog.openReport', openReport),
    vscode.commands.registerCommand('memwatchdog.showHtml', showPanel),
    vscode.commands.registerCommand('memwatchdog.goToSource', (loc: SourceLocation) => goToSource(loc)),
  );
}

export function deactivate(): void {}
