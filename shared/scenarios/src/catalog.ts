/** Static material the world is built from: names, executables with their version resources, services. */

export const FIRST_NAMES = [
  'james',
  'mary',
  'robert',
  'patricia',
  'john',
  'jennifer',
  'michael',
  'linda',
  'david',
  'elizabeth',
  'william',
  'barbara',
  'richard',
  'susan',
  'joseph',
  'jessica',
  'thomas',
  'sarah',
  'charles',
  'karen',
  'chris',
  'lisa',
  'daniel',
  'nancy',
  'matthew',
  'betty',
  'anthony',
  'sandra',
  'mark',
  'ashley',
  'paul',
  'emily',
  'steven',
  'donna',
  'andrew',
  'michelle',
  'kevin',
  'carol',
  'brian',
  'amanda',
  'aiko',
  'ravi',
  'fatima',
  'lars',
  'ingrid',
  'mateo',
  'chen',
  'olga',
  'kwame',
  'noor',
] as const;

export const LAST_NAMES = [
  'smith',
  'johnson',
  'williams',
  'brown',
  'jones',
  'garcia',
  'miller',
  'davis',
  'rodriguez',
  'martinez',
  'hernandez',
  'lopez',
  'gonzalez',
  'wilson',
  'anderson',
  'thomas',
  'taylor',
  'moore',
  'jackson',
  'martin',
  'lee',
  'perez',
  'thompson',
  'white',
  'harris',
  'sanchez',
  'clark',
  'ramirez',
  'lewis',
  'robinson',
  'walker',
  'young',
  'allen',
  'king',
  'wright',
  'scott',
  'torres',
  'nguyen',
  'hill',
  'flores',
  'tanaka',
  'patel',
  'haddad',
  'nilsson',
  'berg',
  'rossi',
  'wang',
  'ivanova',
  'mensah',
  'khan',
] as const;

/** An executable's version resource, as Sysmon reports it on process creation. */
export interface ImageInfo {
  readonly image: string;
  readonly description: string;
  readonly product: string;
  readonly company: string;
  readonly originalFileName: string;
  readonly fileVersion: string;
}

const MS = 'Microsoft Corporation';
const WINDOWS = 'Microsoft\u00ae Windows\u00ae Operating System';
const WIN_VER = '10.0.19041.3636 (WinBuild.160101.0800)';

function win(image: string, description: string, originalFileName: string): ImageInfo {
  return { image, description, product: WINDOWS, company: MS, originalFileName, fileVersion: WIN_VER };
}

export const IMAGES = {
  services: win('C:\\Windows\\System32\\services.exe', 'Services and Controller app', 'services.exe'),
  lsass: win('C:\\Windows\\System32\\lsass.exe', 'Local Security Authority Process', 'lsass.exe'),
  svchost: win('C:\\Windows\\System32\\svchost.exe', 'Host Process for Windows Services', 'svchost.exe'),
  explorer: win('C:\\Windows\\explorer.exe', 'Windows Explorer', 'EXPLORER.EXE'),
  cmd: win('C:\\Windows\\System32\\cmd.exe', 'Windows Command Processor', 'Cmd.Exe'),
  conhost: win('C:\\Windows\\System32\\conhost.exe', 'Console Window Host', 'CONHOST.EXE'),
  reg: win('C:\\Windows\\System32\\reg.exe', 'Registry Console Tool', 'reg.exe'),
  sc: win('C:\\Windows\\System32\\sc.exe', 'Service Control Manager Configuration Tool', 'sc.exe'),
  powershell: win(
    'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    'Windows PowerShell',
    'PowerShell.EXE',
  ),
  taskhostw: win('C:\\Windows\\System32\\taskhostw.exe', 'Host Process for Windows Tasks', 'taskhostw.exe'),
  backgroundTaskHost: win(
    'C:\\Windows\\System32\\backgroundTaskHost.exe',
    'Background Task Host',
    'backgroundTaskHost.exe',
  ),
  msiexec: win('C:\\Windows\\System32\\msiexec.exe', 'Windows\u00ae installer', 'msiexec.exe'),
  notepad: win('C:\\Windows\\System32\\notepad.exe', 'Notepad', 'NOTEPAD.EXE'),
  rundll32: win('C:\\Windows\\System32\\rundll32.exe', 'Windows host process (Rundll32)', 'RUNDLL32.EXE'),
  wmiprvse: win('C:\\Windows\\System32\\wbem\\WmiPrvSE.exe', 'WMI Provider Host', 'Wmiprvse.exe'),
  searchProtocolHost: win(
    'C:\\Windows\\System32\\SearchProtocolHost.exe',
    'Microsoft Windows Search Protocol Host',
    'SearchProtocolHost.exe',
  ),
  gpupdate: win(
    'C:\\Windows\\System32\\gpupdate.exe',
    'Microsoft\u00ae Windows Group Policy Update Utility',
    'GPUpdate.exe',
  ),
  msmpeng: {
    image: 'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe',
    description: 'Antimalware Service Executable',
    product: 'Microsoft\u00ae Windows\u00ae Operating System',
    company: MS,
    originalFileName: 'MsMpEng.exe',
    fileVersion: '4.18.24010.12 (WinBuild.160101.0800)',
  },
  mpCmdRun: {
    image: 'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MpCmdRun.exe',
    description: 'Microsoft Malware Protection Command Line Utility',
    product: 'Microsoft\u00ae Windows\u00ae Operating System',
    company: MS,
    originalFileName: 'MpCmdRun.exe',
    fileVersion: '4.18.24010.12 (WinBuild.160101.0800)',
  },
  sysmon: {
    image: 'C:\\Windows\\Sysmon64.exe',
    description: 'System activity monitor',
    product: 'Sysinternals Sysmon',
    company: 'Sysinternals - www.sysinternals.com',
    originalFileName: '?',
    fileVersion: '15.14',
  },
  chrome: {
    image: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    description: 'Google Chrome',
    product: 'Google Chrome',
    company: 'Google LLC',
    originalFileName: 'chrome.exe',
    fileVersion: '122.0.6261.95',
  },
  winword: {
    image: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
    description: 'Microsoft Word',
    product: 'Microsoft Office',
    company: MS,
    originalFileName: 'WinWord.exe',
    fileVersion: '16.0.17328.20162',
  },
  excel: {
    image: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE',
    description: 'Microsoft Excel',
    product: 'Microsoft Office',
    company: MS,
    originalFileName: 'Excel.exe',
    fileVersion: '16.0.17328.20162',
  },
  outlook: {
    image: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE',
    description: 'Microsoft Outlook',
    product: 'Microsoft Outlook',
    company: MS,
    originalFileName: 'Outlook.exe',
    fileVersion: '16.0.17328.20162',
  },
  msedge: {
    image: 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
    description: 'Microsoft Edge',
    product: 'Microsoft Edge',
    company: MS,
    originalFileName: 'msedge.exe',
    fileVersion: '122.0.2365.66',
  },
  winlogbeat: {
    image: 'C:\\Program Files\\Winlogbeat\\winlogbeat.exe',
    description: '-',
    product: '-',
    company: '-',
    originalFileName: '-',
    fileVersion: '-',
  },
  puppet: {
    image: 'C:\\Program Files\\Puppet Labs\\Puppet\\puppet\\bin\\ruby.exe',
    description: 'Ruby interpreter 3.2.3p157 [x64-mingw-ucrt]',
    product: 'Ruby interpreter 3.2.3p157 [x64-mingw-ucrt]',
    company: 'http://www.ruby-lang.org/',
    originalFileName: 'ruby.exe',
    fileVersion: '3.2.3p157',
  },
  teamsUpdate: {
    image: 'C:\\Users\\%USER%\\AppData\\Local\\Microsoft\\Teams\\Update.exe',
    description: 'Microsoft Teams',
    product: 'Microsoft Teams',
    company: MS,
    originalFileName: 'Squirrel.exe',
    fileVersion: '1.7.0.1864',
  },
} as const satisfies Record<string, ImageInfo>;

export type ImageKey = keyof typeof IMAGES;

/** svchost service groups that run for the whole capture: (command line, account kind). */
export const SVCHOST_SERVICES = [
  {
    name: 'Schedule',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule',
    account: 'system',
  },
  { name: 'Winmgmt', cmd: 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Winmgmt', account: 'system' },
  {
    name: 'EventLog',
    cmd: 'C:\\Windows\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p -s EventLog',
    account: 'localService',
  },
  {
    name: 'Dnscache',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k NetworkService -p -s Dnscache',
    account: 'networkService',
  },
  {
    name: 'SysMain',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain',
    account: 'system',
  },
  {
    name: 'Dhcp',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p -s Dhcp',
    account: 'localService',
  },
  {
    name: 'W32Time',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k LocalService -s W32Time',
    account: 'localService',
  },
  {
    name: 'wuauserv',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s wuauserv',
    account: 'system',
  },
  {
    name: 'CDPUserSvc',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup -s CDPUserSvc_4a1f2',
    account: 'user',
  },
  {
    name: 'WpnUserService',
    cmd: 'C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup -s WpnUserService_4a1f2',
    account: 'user',
  },
] as const;

export type SvchostName = (typeof SVCHOST_SERVICES)[number]['name'];

/** Windows services whose Start/Description values get rewritten in normal operation. */
export const SERVICE_NAMES = [
  'BITS',
  'wuauserv',
  'TrustedInstaller',
  'gupdate',
  'edgeupdate',
  'MapsBroker',
  'WSearch',
  'Spooler',
  'DiagTrack',
  'sppsvc',
  'UsoSvc',
  'WaaSMedicSvc',
  'dmwappushservice',
  'Dnscache',
  'LanmanServer',
] as const;

/** Legitimate software that installs a service (the service-creation analytic fires on these too). */
export const LEGIT_SERVICES = [
  {
    name: 'gupdate',
    display: 'Google Update Service (gupdate)',
    imagePath: '"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe" /svc',
  },
  {
    name: 'MozillaMaintenance',
    display: 'Mozilla Maintenance Service',
    imagePath: '"C:\\Program Files (x86)\\Mozilla Maintenance Service\\maintenanceservice.exe"',
  },
  {
    name: 'edgeupdatem',
    display: 'Microsoft Edge Update Service (edgeupdatem)',
    imagePath: '"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe" /medsvc',
  },
  {
    name: 'AdobeARMservice',
    display: 'Adobe Acrobat Update Service',
    imagePath: '"C:\\Program Files (x86)\\Common Files\\Adobe\\ARM\\1.0\\armsvc.exe"',
  },
  {
    name: 'VeeamEndpointBackupSvc',
    display: 'Veeam Agent for Microsoft Windows',
    imagePath: '"C:\\Program Files\\Veeam\\Endpoint Backup\\Veeam.EndPoint.Service.exe"',
  },
  {
    name: 'ZoomCptService',
    display: 'Zoom Sharing Service',
    imagePath:
      '"C:\\Program Files\\Common Files\\Zoom\\Support\\CptService.exe" -user_path "C:\\Users\\Public"',
  },
] as const;

/** Zeek DCE-RPC interfaces seen on a Windows network, with the operations Zeek logs by default. */
export const RPC_NOISE = {
  lsarpc: {
    pipe: '\\pipe\\lsass',
    ops: ['LsarOpenPolicy2', 'LsarLookupSids3', 'LsarLookupNames4', 'LsarQueryInformationPolicy'],
  },
  samr: {
    pipe: '\\pipe\\lsass',
    ops: [
      'SamrConnect5',
      'SamrOpenDomain',
      'SamrLookupNamesInDomain',
      'SamrOpenUser',
      'SamrQueryInformationUser',
      'SamrGetGroupsForUser',
    ],
  },
  srvsvc: {
    pipe: '\\PIPE\\srvsvc',
    ops: ['NetrShareEnum', 'NetrShareGetInfo', 'NetrServerGetInfo', 'NetrSessionEnum'],
  },
  netlogon: {
    pipe: '',
    ops: [
      'NetrServerReqChallenge',
      'NetrServerAuthenticate3',
      'NetrLogonSamLogonEx',
      'NetrLogonGetCapabilities',
    ],
  },
  drsuapi: { pipe: '', ops: ['DRSBind', 'DRSGetNCChanges', 'DRSCrackNames', 'DRSUnbind'] },
  epmapper: { pipe: '135', ops: ['ept_map', 'ept_lookup'] },
  svcctl: {
    pipe: '\\PIPE\\svcctl',
    ops: [
      'OpenSCManagerW',
      'OpenServiceW',
      'QueryServiceStatus',
      'QueryServiceConfigW',
      'EnumServicesStatusW',
      'CloseServiceHandle',
    ],
  },
  winregRead: {
    pipe: '\\PIPE\\winreg',
    ops: [
      'OpenLocalMachine',
      'BaseRegOpenKey',
      'BaseRegQueryValue',
      'BaseRegEnumKey',
      'BaseRegGetVersion',
      'BaseRegQueryInfoKey',
      'BaseRegCloseKey',
    ],
  },
} as const;
